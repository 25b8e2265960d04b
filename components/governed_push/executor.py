"""GovernedPush executor: read the gate evidence, decide per destination, publish atomically.

Thin by design: it turns artifacts into plain dicts, hands them to the pure
`gates.judge` and `policy.decide`, publishes with the version's manifest
(`publish.publish`: the same model is never a second version of a
destination), and records what happened on the PushedModel output (the stock
Pusher's `pushed`, `pushed_destination`, `pushed_version`, plus
`destination_name`, `model_id`, `model_uri`, `examples_uri`, `model_fingerprint`,
`gates` and `decisions`). Where its `card` parameter names an ML Metadata store (local and
notebook runs), it writes the audit records (tfxgate.Push,
tfxgate.PendingApproval) there itself, as it pushes
(`governance.push_records`); the first push's record gets the component's own
PushedModel linked once TFX has published it. A Kubeflow task reaches no
store: a push's record travels as the manifest and these properties, a pending
decision as a pending file beside the push root (`push_records.write_pending`),
and `recovery.reconcile` rebuilds both.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

from absl import logging
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from tfxgate.artifacts import anomalies
from tfxgate.components.governed_push.settings import PushStage
from tfxgate.governance import gates, policy, publish, push_records
from tfxgate.governance.fingerprint import model_fingerprint
from tfxgate.mlmd import audit
from tfxgate.mlmd.graph import value
from tfxgate.reporting.card_hook import card_writer
from tfxgate.storage import failpoints, filesystem

AFTER_EXECUTOR = failpoints.named("push.after_executor")

_EVIDENCE = {
    "ingestion": "examples",
    "validation": "anomalies",
    "drift": "drift_blessing",
    "evaluation": "model_blessing",
    "infra": "infra_blessing",
}


class PushRefused(RuntimeError):
    """A destination cannot be pushed to as configured (e.g. its credentials variable is unset)."""


class Executor(base_executor.BaseExecutor):
    def Do(self, input_dict: dict[str, list[types.Artifact]], output_dict, exec_properties: dict[str, Any]) -> None:
        stage = PushStage.model_validate_json(exec_properties["settings"])
        required = json.loads(exec_properties["required_gates"])
        model = artifact_utils.get_single_instance(input_dict["model"])
        pushed_model = artifact_utils.get_single_instance(output_dict["pushed_model"])

        evidence = {gate: _evidence(gate, input_dict.get(key) or []) for gate, key in _EVIDENCE.items()}
        results = gates.judge(evidence, required=required)
        source = publish.serving_dir(model.uri)
        fingerprint = model_fingerprint(source)
        store = _open_store(exec_properties.get("card") or "")
        pipeline, run_id = _pipeline_and_run(self._context, store, kubeflow_run=exec_properties.get("kubeflow_run"))
        decisions = []
        # What every destination's manifest (a push, or a pending decision without a store) says of this model.
        of_model = dict(
            fingerprint=fingerprint,
            model_id=model.id,
            model_uri=model.uri,
            pipeline=pipeline,
            run_id=run_id,
            gates=gates.to_json(results),
        )
        for name, destination in stage.destinations.items():
            push = {"destination": name, "by": "policy:auto", "reason": "", "gates": gates.to_json(results)}
            action = policy.decide(results, approval=destination.approval)
            published = None
            if action == "push":
                _check_credentials(name, destination.credentials_env)
                manifest = push_records.manifest(**of_model, destination=name)
                # The first push's PushedModel is the component's own output, linked once TFX publishes it.
                published = push_records.publish_and_record(
                    source,
                    stage.destination_dir(name),
                    root=filesystem.location(stage.root),
                    manifest=manifest,
                    store=store,
                    with_pushed_model=any(d["action"] == "push" for d in decisions),
                    rollout=destination.rollout.policy(),
                    before_rename=_card_writer(exec_properties.get("card") or "", model_id=model.id, push=push),
                )
            elif action == "pending" and store is not None:
                push_records.record_pending(
                    store,
                    destination=name,
                    fingerprint=fingerprint,
                    model_id=model.id,
                    pipeline=pipeline,
                    run_id=run_id,
                    gates=gates.to_json(results),
                )
            elif action == "pending":  # no store (a Kubeflow task): the decision waits beside the push root
                pending = push_records.manifest(
                    **of_model, destination=name, decision="pending", by=audit.MANUAL, reason=audit.PENDING_REASON
                )
                written = push_records.write_pending(filesystem.location(stage.root), pending)
                logging.info("GovernedPush: %s pending approval, recorded at %s", name, written)
            decisions.append(
                {
                    "destination": name,
                    "approval": destination.approval,
                    "action": action,
                    "version": published.version if published else "",
                    "path": str(published.path) if published else "",
                    "reused": bool(published and published.reused),
                }
            )
            logging.info("GovernedPush: %s -> %s %s", name, action, published.path if published else "")

        first = next((d for d in decisions if d["action"] == "push"), None)
        pushed_model.set_int_custom_property("pushed", int(first is not None))
        pushed_model.set_string_custom_property("pushed_destination", first["path"] if first else "")
        pushed_model.set_string_custom_property("pushed_version", first["version"] if first else "")
        pushed_model.set_string_custom_property("destination_name", first["destination"] if first else "")
        pushed_model.set_int_custom_property("model_id", model.id or 0)
        # What a Kubeflow resolver query finds the pushed model's Model and Examples by
        # (pipelines/kubeflow/resolvers.py): it cannot walk executions as the local resolvers do.
        pushed_model.set_string_custom_property("model_uri", model.uri)
        examples = input_dict.get("examples") or []
        pushed_model.set_string_custom_property("examples_uri", examples[-1].uri if examples else "")
        pushed_model.set_string_custom_property("model_fingerprint", fingerprint)
        pushed_model.set_string_custom_property("gates", gates.to_json(results))
        pushed_model.set_string_custom_property("decisions", json.dumps(decisions))
        failpoints.hit(AFTER_EXECUTOR)


def _evidence(gate: str, artifacts: list) -> Optional[dict]:
    """A gate's evidence: the artifact's custom properties (plus what the gate needs), or None."""
    if not artifacts:
        return None
    artifact = artifacts[-1]
    props = {key: value(artifact.mlmd_artifact, key) for key in artifact.mlmd_artifact.custom_properties}
    if gate == "ingestion":
        props.setdefault("span", artifact.span)
    if gate == "validation" and "blessed" not in props:
        props["anomaly_count"] = anomalies.count(artifact.uri)  # a stock ExampleValidator's files
    return props


def _check_credentials(name: str, variable: Optional[str]) -> None:
    # The value is never read into a message, a property or the card: only whether it is set.
    if variable and not os.environ.get(variable):
        raise PushRefused(
            f"stages.push.destinations.{name}.credentials_env: environment variable {variable} is not set; "
            "nothing was pushed"
        )


def _pipeline_and_run(context, store, *, kubeflow_run: Optional[str] = None) -> tuple[str, str]:
    """(pipeline name, run id) of this execution, for its records and manifests.

    TFX's portable launcher (local and Kubeflow runs) puts both on the executor
    context. A notebook's InteractiveContext (TFX's legacy launcher) puts
    neither, but it registered this execution with both as properties
    (`pipeline_name`, `run_id`: its run of this node) under the id it passes
    as the context's unique id: read back from the store, so a notebook run's
    records name their pipeline and run as a local run's do.
    """
    if kubeflow_run:  # a Kubeflow V2 task: the compile passes the pipeline and KFP's run name
        run = json.loads(kubeflow_run)
        return run["pipeline"], run["run_id"]
    info = getattr(context, "pipeline_info", None)
    pipeline = getattr(info, "id", "") or getattr(info, "pipeline_name", "") or ""
    run_id = getattr(context, "pipeline_run_id", None) or getattr(info, "run_id", "") or ""
    if (pipeline and run_id) or store is None:
        return pipeline, run_id
    # The legacy Context keeps the id only as a private attribute (tfx/dsl/components/base/base_executor.py).
    execution_id = str(getattr(context, "_unique_id", "") or "")
    found = store.get_executions_by_id([int(execution_id)]) if execution_id.isdigit() else []
    if not found:
        logging.warning("GovernedPush: no pipeline run id from TFX (execution %r not in the store)", execution_id)
        return pipeline, run_id
    recorded = {key: value.string_value for key, value in found[0].properties.items()}
    return pipeline or recorded.get("pipeline_name", ""), run_id or recorded.get("run_id", "")


def _open_store(card_json: str, *, read_only: bool = False):
    """The run's ML Metadata store when the `card` parameter names one; else None (a Kubeflow task)."""
    if not card_json:
        return None
    from pydantic import TypeAdapter

    from tfxgate.mlmd.settings import MetadataSection
    from tfxgate.mlmd.store import open_store

    card = json.loads(card_json)
    section = TypeAdapter(MetadataSection).validate_python(card["metadata"])
    return open_store(section, root=Path(card["root"]), read_only=read_only)


def _card_writer(card_json: str, *, model_id: Optional[int], push: dict):
    if not card_json:
        return card_writer(None, model_id=model_id)
    card_info = json.loads(card_json).get("card_info")

    def open_store():
        return _open_store(card_json, read_only=True)

    return card_writer(open_store, model_id=model_id, card_info=card_info, push=push)
