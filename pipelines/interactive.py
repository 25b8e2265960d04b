"""Running a config's pipeline stage by stage in a notebook, with TFX's InteractiveContext.

`interactive(config)` builds exactly the nodes `tfxgate run` builds (it calls
`build_pipeline` and takes its node list, so the stage wiring lives in one
place) and hands them, one at a time, to an `InteractiveContext` that writes to
the config's ML Metadata store. For quick runs it takes the CLI's `--set`
overrides and can sample the input file first:

    run = tfxgate.interactive("configs/taxi.yaml", sample_rows=2000,
                              overrides=["stages.trainer.train_steps=50"])
    run.run_until("StatisticsGen"); run.show("StatisticsGen", "statistics")
    display(run.section("Drift"))   # a section of the run report
    run.run_all()                   # the remaining stages, in pipeline order

With `stages.transform` (configs/taxi_transform.yaml) the stock Transform node is
one of them: `run.run_until("Transform"); run.show("Transform", "post_transform_stats")`.

Only IPython runs components (TFX's InteractiveContext is a no-op elsewhere).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

from tfxgate.components.governed_push.component import NODE_ID as GOVERNED_PUSH
from tfxgate.pipelines.config.root import PipelineConfig, load_config


@dataclass
class InteractiveRun:
    """The pipeline's nodes, an InteractiveContext on the config's store, and what has run so far."""

    config: PipelineConfig
    context: object  # tfx InteractiveContext
    nodes: dict  # node id -> TFX node, in pipeline order
    results: dict = field(default_factory=dict)  # node id -> ExecutionResult

    def run(self, node_id: str, *, enable_cache: bool = True):
        """Runs one node (its upstream nodes must have run); returns TFX's ExecutionResult."""
        node = self._node(node_id)
        missing = [n.id for n in node.upstream_nodes if n.id not in self.results]
        if missing:
            raise RuntimeError(f"run {', '.join(missing)} before {node_id}")
        from tfx.dsl.components.common.resolver import Resolver

        if isinstance(node, Resolver):
            self.results[node_id] = _resolve(node, store=self.store(), ran=set(self.results))
        else:
            self.results[node_id] = self.context.run(node, enable_cache=enable_cache)
            if node_id == GOVERNED_PUSH:
                self._link_push_records(self.results[node_id])
        return self.results[node_id]

    def _link_push_records(self, result) -> None:
        """Links GovernedPush's published PushedModel to the push record its executor wrote (as the local runner does).

        The executor writes the records itself, naming TFX's run of the node (see
        components/governed_push/executor.py); this writes only a record still missing.
        """
        from tfxgate.mlmd import audit
        from tfxgate.mlmd.store import open_store

        if result.execution_id is None:
            return
        store = open_store(self.config.metadata, root=self.config.pipeline.root)
        [execution] = store.get_executions_by_id([result.execution_id])
        audit.record_pipeline_decisions(
            store,
            execution_id=result.execution_id,
            pipeline=self.config.pipeline.name,
            run_id=execution.properties["run_id"].string_value,
        )

    def run_until(self, node_id: str, *, enable_cache: bool = True) -> dict:
        """Runs, in pipeline order, every node up to and including `node_id` that has not run yet."""
        self._node(node_id)
        for each in self.nodes:
            if each not in self.results:
                self.run(each, enable_cache=enable_cache)
            if each == node_id:
                break
        return self.results

    def _node(self, node_id: str):
        if node_id not in self.nodes:
            known = ", ".join(self.nodes)
            raise KeyError(f"no node {node_id!r} in pipeline '{self.config.pipeline.name}' (nodes: {known})")
        return self.nodes[node_id]

    def run_all(self, *, enable_cache: bool = True) -> dict:
        """Runs every node that has not run yet, in pipeline order."""
        return self.run_until(list(self.nodes)[-1], enable_cache=enable_cache)

    def node_with_output(self, name: str) -> str:
        """The id of the (first) node with an output called `name`, e.g. "statistics" or "evaluation".

        Lets a notebook follow a stage whichever component provides it (StatisticsGen
        or a tfxgate replacement).
        """
        for node_id, node in self.nodes.items():
            if name in node.outputs:
                return node_id
        raise KeyError(f"no node of pipeline '{self.config.pipeline.name}' has an output {name!r}")

    def output(self, node_id: str, name: str):
        """The artifact a node's output `name` holds after it ran (the last one, if several)."""
        return self.nodes[node_id].outputs[name].get()[-1]

    def show(self, node_id: str, name: str) -> None:
        """TFX's notebook view of an output (statistics as TFDV's visualisation, anomalies as a table)."""
        self.context.show(self.nodes[node_id].outputs[name])

    def report(self):
        """What the stages run so far recorded, as the run report collects it (`pipelines/report`)."""
        from tfxgate.mlmd.store import address
        from tfxgate.reporting.run_facts import from_executions

        store = self.store()
        ids = [r.execution_id for r in self.results.values() if r.execution_id is not None]
        return from_executions(
            store,
            store.get_executions_by_id(ids),
            pipeline=self.config.pipeline.name,
            run_id="interactive",
            address=address(self.config.metadata, root=self.config.pipeline.root),
        )

    def section(self, name: str):
        """One section of the run report (e.g. "Drift", "Slice evaluation", "Lineage") for display."""
        from IPython.display import HTML

        from tfxgate.pipelines import report as run_report
        from tfxgate.reporting import run_page as page
        from tfxgate.reporting.drift_html import STYLE

        body = page.section(self.report(), name, **run_report.chart_options(self.config))
        return HTML(f"<style>{STYLE}</style>{body}")

    def store(self):
        """The ML Metadata store the run writes to (read-only)."""
        from tfxgate.mlmd.store import open_store

        return open_store(self.config.metadata, root=self.config.pipeline.root, read_only=True)


def interactive(
    config: Union[str, Path, PipelineConfig],
    *,
    overrides: Sequence[str] = (),
    sample_rows: Optional[int] = None,
    root: Optional[Path] = None,
) -> InteractiveRun:
    """An interactive run of a config's pipeline.

    Args:
      config: a YAML path (loaded with `overrides`) or a loaded config.
      overrides: `key.path=value` strings, as the CLI's `--set`.
      sample_rows: keep about this many rows of the input file (every k-th row,
        so every part of the data stays represented); written under the root.
      root: pipeline root for this run (artifacts, metadata, pushed models): its own ML Metadata store
        (a relative SQLite path lands under it; an absolute one is moved to `<root>/metadata.sqlite`) and
        its own push root `<root>/serving` (even where the config's is absolute), so a notebook run never
        pushes into the real serving folder.

    Raises:
      ConfigError: the config (with overrides) is invalid.
      ValueError: `sample_rows` with an input that is not a single CSV or Parquet file.
    """
    overrides = list(overrides)
    if not isinstance(config, PipelineConfig):
        if root is not None:
            root = Path(root).resolve()
            overrides.append(f"stages.push.root={root / 'serving'}")  # absolute or not: never the real one
        config = load_config(config, overrides=overrides, root=root)
        if root is not None and config.metadata.kind == "sqlite" and Path(config.metadata.path).is_absolute():
            config = load_config(config.source, overrides=[*overrides, "metadata.path=metadata.sqlite"], root=root)
    elif overrides or root is not None:
        raise ValueError("overrides/root apply to a config file: pass its path, not a loaded config")
    if sample_rows is not None:
        sample = sample_input(config, rows=sample_rows)
        config = config.model_copy(update={"data": config.data.model_copy(update={"path": str(sample)})})
    return InteractiveRun(config=config, context=_context(config), nodes=_nodes(config))


@dataclass
class Resolved:
    """What a resolver node handed on (it records no execution in a notebook run)."""

    node_id: str
    artifacts: dict  # output key -> artifacts
    execution_id: Optional[int] = None


def _resolve(node, *, store, ran: set[str]) -> Resolved:
    """Runs a Resolver's strategy on this session's artifacts.

    TFX's legacy resolver driver (the one InteractiveContext uses) reads every
    input channel from ML Metadata, so a channel meant to carry *this* run's
    artifact (the current examples, the candidate model) would carry every one
    ever made. Here a channel whose producer ran in this session carries what it
    produced; a free channel (e.g. "any Model") carries every artifact of its
    type in the store, as in a pipeline run.
    """
    from ml_metadata import errors
    from tfx.dsl.components.common import resolver
    from tfx.types import artifact_utils

    inputs = {}
    for key, channel in node.inputs.items():
        if getattr(channel, "producer_component_id", None) in ran:
            inputs[key] = list(channel.get())
            continue
        try:
            artifact_type = store.get_artifact_type(channel.type_name)
        except errors.NotFoundError:  # nothing of this type recorded yet
            inputs[key] = []
            continue
        found = store.get_artifacts_by_type(channel.type_name)
        inputs[key] = [artifact_utils.deserialize_artifact(artifact_type, a) for a in found]
    properties = node.exec_properties
    strategy = properties[resolver.RESOLVER_STRATEGY_CLASS](**(properties.get(resolver.RESOLVER_CONFIG) or {}))
    resolved = strategy.resolve_artifacts(store, inputs) or {key: [] for key in inputs}
    for key, channel in node.outputs.items():
        channel.set_artifacts(resolved.get(key, []))
    return Resolved(node.id, resolved)


def _nodes(config: PipelineConfig) -> dict:
    from tfxgate.pipelines.build import build_pipeline

    return {node.id: node for node in build_pipeline(config).components}


def _context(config: PipelineConfig):
    from tfx.orchestration.experimental.interactive.interactive_context import InteractiveContext

    from tfxgate.pipelines.build import metadata_connection

    config.pipeline.root.mkdir(parents=True, exist_ok=True)
    return InteractiveContext(
        pipeline_name=config.pipeline.name,
        pipeline_root=str(config.pipeline.root / "artifacts"),
        metadata_connection_config=metadata_connection(config),
        beam_pipeline_args=config.runner.beam.pipeline_args(),
    )


def sample_input(config: PipelineConfig, *, rows: int) -> Path:
    """Every k-th row of the config's single input file, written to `<root>/sample/`."""
    source = Path(config.data.path)
    if not source.is_file():
        raise ValueError(f"sample_rows needs data.path to be one file, got {config.data.path}")
    target = config.pipeline.root / "sample" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if config.data.format == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(source)
        step = max(table.num_rows // max(rows, 1), 1)
        pq.write_table(table.take(list(range(0, table.num_rows, step))), target)
        return target
    with source.open() as src:
        total = sum(1 for _ in src) - 1
    step = max(total // max(rows, 1), 1)
    with source.open() as src, target.open("w") as dst:
        dst.write(next(src))  # the header
        dst.writelines(itertools.islice(src, 0, None, step))
    return target
