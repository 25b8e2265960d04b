"""The ids of a config's pipeline nodes, from the config alone (no TFX import).

`build.py` checks every pipeline it builds against `stage_ids`, so this list
cannot drift from the built pipeline; it is what per-stage settings may name
(`kubeflow.resources`), validated at `tfxgate check` without the 30 s TFX import.
Resolvers are ML Metadata queries, not containers: `container_stages` leaves them out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tfxgate.pipelines.config.root import PipelineConfig

PREVIOUS_SPAN = "previous_span_resolver"
PUSHED_SPAN = "pushed_span_resolver"
BASELINE = "baseline_model_resolver"
RESOLVERS = (PREVIOUS_SPAN, PUSHED_SPAN, BASELINE)


def stage_ids(config: PipelineConfig) -> list[str]:
    """Every node id of the pipeline `build_pipeline(config)` builds, in build order.

    For configs/taxi.yaml: Ingest, ImportSchemaGen, Validate, previous_span_resolver,
    pushed_span_resolver, DataDrift, Trainer, baseline_model_resolver, SliceEval, GovernedPush.
    """
    stages = config.stages
    ids = ["Ingest"]
    ids += ["ImportSchemaGen", "Validate"] if config.schema_file is not None else ["Validate", "SchemaGen"]
    if stages.drift.enabled:
        ids += [PREVIOUS_SPAN, PUSHED_SPAN, "DataDrift"]
    ids.append("Trainer")
    if stages.evaluation.enabled:
        ids += [BASELINE, "SliceEval"]
    if stages.push.enabled:
        ids.append("GovernedPush")
    return ids


def container_stages(config: PipelineConfig) -> list[str]:
    """The stages that run as containers on Kubeflow (every node but the resolvers)."""
    return [node for node in stage_ids(config) if node not in RESOLVERS]
