"""Running a pipeline locally: TFX's LocalDagRunner, with progress and an outcome.

Stock `LocalDagRunner` runs every node in topological order and only logs. Ours
runs the same launcher, node by node, and reports each node as it starts and
ends (seconds, and whether TFX served it from cache, read back from ML
Metadata), so a user sees where a long run is and a test can assert what ran.
A node that raises stops the run; the outcome names it and the cause, and the
traceback goes to the log (`logging.exception`: `<root>/logs/tfxgate.log` under
`tfxgate run`). Before the first node, `governance.recovery.reconcile` repairs
what a killed run or push left (push records, RUNNING executions); GovernedPush
writes its own audit records, and once TFX marks it COMPLETE the runner links
its PushedModel to them (`audit.record_pipeline_decisions`, idempotent).
"""

from __future__ import annotations

import datetime
import functools
import logging
import time
import traceback
from typing import Callable, Optional

import ml_metadata as mlmd
from tfx.dsl.compiler import compiler, constants
from tfx.orchestration import metadata
from tfx.orchestration.local import runner_utils
from tfx.orchestration.portable import launcher, runtime_parameter_utils
from tfx.proto.orchestration import pipeline_pb2

from tfxgate.components.governed_push.component import NODE_ID as GOVERNED_PUSH
from tfxgate.governance import recovery
from tfxgate.mlmd import audit, plan
from tfxgate.mlmd.store import (
    EXECUTION_STATES,
    MetadataError,
    address,
    exclusive_use,
    inspect,
    open_store,
)
from tfxgate.pipelines.build import build_pipeline
from tfxgate.pipelines.config.root import PipelineConfig
from tfxgate.reporting.outcome import NodeOutcome, RunOutcome
from tfxgate.storage import failpoints

AFTER_COMPLETE = failpoints.named("push.after_complete")

Progress = Callable[[str, NodeOutcome], None]


def _quiet(event: str, node: NodeOutcome) -> None:
    del event, node


def run_local(
    config: PipelineConfig, *, progress: Progress = _quiet, notice: Callable[[str], None] = print
) -> RunOutcome:
    """Builds and runs the pipeline locally; never raises for a failing node.

    Args:
      config: a loaded config.
      progress: called with ("start" | "end", NodeOutcome) around every node.
      notice: told when the run waits for another one using the same SQLite file, and of each recovery repair.

    Returns:
      The run's outcome; `outcome.failed_node` names the node that failed.

    Raises:
      MetadataError: a MySQL store is unreachable or its schema is not ready.
      ValueError: TFXGATE_FAILPOINTS names a failpoint no module declares.
    """
    failpoints.check_armed()  # a misspelt TFXGATE_FAILPOINTS must not let a crash test pass unkilled
    config.pipeline.root.mkdir(parents=True, exist_ok=True)
    if config.metadata.kind != "sqlite":  # a server's schema is created only on request
        open_store(config.metadata, root=config.pipeline.root)
    ir = compiler.Compiler().compile(build_pipeline(config))
    run_id = datetime.datetime.now().isoformat()
    outcome = RunOutcome(
        pipeline_name=config.pipeline.name,
        run_id=run_id,
        root=config.pipeline.root,
        metadata=address(config.metadata, root=config.pipeline.root),
    )
    with exclusive_use(config.metadata, root=config.pipeline.root, waiting=notice):
        # What a killed run or push left behind is repaired before anything new runs (one log line each).
        store = open_store(config.metadata, root=config.pipeline.root)
        recovery.reconcile(store, config.governed(), log=lambda line: (logging.warning(line), notice(line)))
        started = time.monotonic()
        _run_ir(ir, run_id, outcome, progress, explain=functools.partial(_explain, config))
        outcome.seconds = time.monotonic() - started
    return outcome


def _run_ir(
    ir: pipeline_pb2.Pipeline,
    run_id: str,
    outcome: RunOutcome,
    progress: Progress,
    *,
    explain: Callable[[BaseException], str],
) -> None:
    """The body of LocalDagRunner.run_with_ir, one reported node at a time."""
    runtime_parameter_utils.substitute_runtime_parameter(ir, {constants.PIPELINE_RUN_ID_PARAMETER_NAME: run_id})
    deployment_config = runner_utils.extract_local_deployment_config(ir)
    connection_config = getattr(
        deployment_config.metadata_connection_config,
        deployment_config.metadata_connection_config.WhichOneof("connection_config"),
    )
    planned = [n.pipeline_node.node_info.id for n in ir.nodes if not n.pipeline_node.execution_options.HasField("skip")]
    plan_recorded = False
    for node in ir.nodes:
        pipeline_node = node.pipeline_node
        node_id = pipeline_node.node_info.id
        if pipeline_node.execution_options.HasField("skip"):
            outcome.nodes.append(NodeOutcome(node_id, "skipped", 0.0))
            continue
        node_launcher = launcher.Launcher(
            pipeline_node=pipeline_node,
            mlmd_connection=metadata.Metadata(connection_config),
            pipeline_info=ir.pipeline_info,
            pipeline_runtime_spec=ir.runtime_spec,
            executor_spec=runner_utils.extract_executor_spec(deployment_config, node_id),
            custom_driver_spec=runner_utils.extract_custom_driver_spec(deployment_config, node_id),
        )
        result = NodeOutcome(node_id, "running", 0.0)
        progress("start", result)
        began = time.monotonic()
        try:
            info = node_launcher.launch()
        except Exception as err:  # a failing component ends the run with its name; the traceback goes to the log
            logging.exception("node %s of run %s failed", node_id, run_id)
            result.state = "failed"
            result.error = explain(err)
        else:
            result.execution_id = info.execution_id if info else None
            result.state = _state_of(connection_config, result.execution_id, pipeline_node)
            if node_id == GOVERNED_PUSH and result.state == "complete":
                failpoints.hit(AFTER_COMPLETE)
                try:  # only now does the PushedModel exist in MLMD: link it to the executor's record (idempotent)
                    audit.record_pipeline_decisions(
                        mlmd.MetadataStore(connection_config),
                        execution_id=result.execution_id,
                        pipeline=ir.pipeline_info.id,
                        run_id=run_id,
                    )
                except Exception as err:  # the run must say its audit trail is incomplete, not crash
                    logging.exception("run %s: the push decisions could not be recorded in ML Metadata", run_id)
                    result.state = "failed"
                    result.error = f"the push decisions could not be recorded in ML Metadata: {explain(err)}"
        if not plan_recorded:  # TFX created the run's context with the first node: a kill from here on shows
            plan_recorded = plan.record(mlmd.MetadataStore(connection_config), run_id=run_id, nodes=planned)
        result.seconds = time.monotonic() - began
        outcome.nodes.append(result)
        progress("end", result)
        if result.state == "failed":
            return


def _state_of(connection_config, execution_id: Optional[int], pipeline_node) -> str:
    if pipeline_node.node_info.type.name.endswith("Resolver"):
        return "resolved"
    if execution_id is None:
        return "skipped"
    store = mlmd.MetadataStore(connection_config)
    [execution] = store.get_executions_by_id([execution_id])
    return EXECUTION_STATES.get(execution.last_known_state, "unknown")


def _explain(config: PipelineConfig, err: BaseException) -> str:
    """Why a node failed; names the metadata server when it is the server that went away."""
    cause = _describe(err)
    if config.metadata.kind == "sqlite":
        return cause
    try:
        inspect(config.metadata, root=config.pipeline.root)
    except MetadataError:
        where = address(config.metadata, root=config.pipeline.root)
        return f"lost ML Metadata at {where} (server down or restarted; rerun to resume from cache): {cause}"
    return cause


def _describe(err: BaseException) -> str:
    """The cause a user should read first: the deepest exception's message."""
    while err.__cause__ is not None or err.__context__ is not None:
        err = err.__cause__ or err.__context__
    lines = traceback.format_exception_only(type(err), err)
    return "".join(lines).strip()
