"""Whether this run tunes: `stages.tune.rerun`, decided when the pipeline is built.

A run either searches (the stock Tuner node feeds the Trainer its best
hyperparameters) or reuses the last search: the pipeline is built without the
Tuner, and an Importer hands the Trainer the `HyperParameters` artifact of this
pipeline's last Tuner run, found in ML Metadata. The Importer does not re-import
an artifact it already knows (`reimport=False`), so the Trainer reads *that*
artifact, and lineage leads from the model to the Tuner run that found it.

The last tuning (`last_tuning`) is the newest Tuner execution of this pipeline's
context that completed or was served from cache; what it searched is read from
its `custom_config` and what it searched on from its Examples (their span, and
the input fingerprint of the Ingest run that made them, or made the examples
Transform transformed for it). The current input is
what Ingest's own driver resolves now (`current_input`: the same span and
fingerprint code ExampleGen runs). `due` then applies the rule:

    every_run         always tune
    data_changed      tune when the fingerprint differs (file names, sizes, modification times)
    every_n_spans: N  tune when the span is at least N past the tuned span
    any rule          tune when there is no earlier tuning, or when stages.tune /
                      stages.trainer.hyperparameters changed since it

On Kubeflow the compile has no store to ask, so a compiled pipeline always tunes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Optional

from ml_metadata.proto import metadata_store_pb2

from tfxgate.mlmd.graph import Graph, value
from tfxgate.pipelines.config.root import PipelineConfig
from tfxgate.pipelines.config.tune import EVERY_RUN, EveryNSpans

TUNER_TYPE = "tfx.components.tuner.component.Tuner"
HYPERPARAMETERS = "HyperParameters"
FINGERPRINT = "input_fingerprint"  # ExampleGen's exec property (tfx.components.example_gen.utils)
_DONE = (metadata_store_pb2.Execution.COMPLETE, metadata_store_pb2.Execution.CACHED)


@dataclass(frozen=True)
class LastTuning:
    """The newest Tuner run of the pipeline: its best hyperparameters and what it searched on."""

    artifact_id: int
    uri: str
    execution_id: int
    custom_config: Optional[dict[str, Any]]
    span: Optional[int]
    fingerprint: Optional[str]


@dataclass(frozen=True)
class Decision:
    tune: bool
    reason: str
    reuse: Optional[LastTuning] = None  # set when not tuning


def due(
    rule,
    *,
    last: Optional[LastTuning],
    custom_config: dict[str, Any],
    span: Optional[int],
    fingerprint: Optional[str],
) -> Decision:
    """Applies `stages.tune.rerun` to the last tuning and the current input.

    >>> due("data_changed", last=None, custom_config={}, span=0, fingerprint="f").reason
    'no earlier tuning of this pipeline'
    """
    if rule == EVERY_RUN:
        return Decision(True, "stages.tune.rerun is every_run")
    if last is None:
        return Decision(True, "no earlier tuning of this pipeline")
    if last.custom_config != _plain(custom_config):
        return Decision(True, "stages.tune or stages.trainer.hyperparameters changed since the last tuning")
    if isinstance(rule, EveryNSpans):
        if span is None or last.span is None or span - last.span >= rule.every_n_spans:
            return Decision(True, f"span {span} is at least {rule.every_n_spans} past the tuned span {last.span}")
        return Decision(False, f"span {span} is fewer than {rule.every_n_spans} past the tuned span {last.span}", last)
    if fingerprint is None or fingerprint != last.fingerprint:
        return Decision(True, "the input data changed since the last tuning (its fingerprint differs)")
    return Decision(False, "the input data is unchanged since the last tuning", last)


def last_tuning(store, *, pipeline: str) -> Optional[LastTuning]:
    """The newest Tuner execution of `pipeline` with a HyperParameters output, or None."""
    graph = Graph(store)
    context = store.get_context_by_type_and_name("pipeline", pipeline)
    if context is None:
        return None
    tuners = [
        e
        for e in store.get_executions_by_context(context.id)
        if graph.execution_type(e) == TUNER_TYPE and e.last_known_state in _DONE
    ]
    for execution in sorted(tuners, key=lambda e: e.id, reverse=True):
        found = graph.outputs([execution], type_name=HYPERPARAMETERS)
        if not found:
            continue
        span, fingerprint = _ingested(graph, [a for _, a in graph.inputs(execution, type_name="Examples")])
        raw = value(execution, "custom_config")
        return LastTuning(
            artifact_id=found[-1].id,
            uri=found[-1].uri,
            execution_id=execution.id,
            custom_config=json.loads(raw) if raw else None,
            span=span,
            fingerprint=fingerprint,
        )
    return None


def _ingested(graph: Graph, examples: list) -> tuple[Optional[int], Optional[str]]:
    """(span, input fingerprint) of the ingestion behind `examples`: Ingest's own, or (Transform's
    transformed examples) those of the Examples their producer read."""
    for _ in range(3):  # Ingest -> (Transform ->) Tuner
        producers = graph.producers(examples[0].id) if examples else []
        if not producers:
            return None, None
        if value(producers[0], FINGERPRINT) is not None:
            return value(examples[0], "span"), value(producers[0], FINGERPRINT)
        examples = [a for _, a in graph.inputs(producers[0], type_name="Examples")]
    return None, None


def current_input(ingest_node) -> tuple[Optional[int], Optional[str]]:
    """(span, input fingerprint) that the Ingest node's driver resolves now: what its run will record."""
    from google.protobuf import message
    from tfx.utils import proto_utils

    properties = {
        key: proto_utils.proto_to_json(item) if isinstance(item, message.Message) else item
        for key, item in ingest_node.exec_properties.items()
    }
    resolved = ingest_node.driver_class(None).resolve_exec_properties(properties, None, None)
    return resolved.get("span"), resolved.get(FINGERPRINT)


def decide(config: PipelineConfig, *, ingest_node, custom_config: dict[str, Any]) -> Decision:
    """Whether this local run tunes, from `stages.tune.rerun`, the pipeline's store and the input now."""
    rule = config.stages.tune.rerun
    if rule == EVERY_RUN:
        return due(rule, last=None, custom_config=custom_config, span=None, fingerprint=None)
    from tfxgate.mlmd.store import inspect, open_store

    if config.metadata_path is not None and not config.metadata_path.exists():
        last = None  # a first run: nothing to reuse (and no empty store created here)
    elif not inspect(config.metadata, root=config.pipeline.root).ready:
        last = None
    else:
        store = open_store(config.metadata, root=config.pipeline.root, read_only=True)
        last = last_tuning(store, pipeline=config.pipeline.name)
    span, fingerprint = current_input(ingest_node) if last is not None else (None, None)
    decision = due(rule, last=last, custom_config=custom_config, span=span, fingerprint=fingerprint)
    logging.info(
        "stages.tune: %s (%s)", "tuning" if decision.tune else "reusing the last best hyperparameters", decision.reason
    )
    return decision


def _plain(config: dict[str, Any]) -> dict[str, Any]:
    """The custom_config as ML Metadata gives it back (JSON round trip: tuples become lists)."""
    return json.loads(json.dumps(config))
