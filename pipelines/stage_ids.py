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
TRANSFORM = "Transform"  # stock TFX Transform (stages.transform)


def stage_ids(config: PipelineConfig, *, every: bool = False) -> list[str]:
    """Every node id of the pipeline `build_pipeline(config)` builds, in build order.

    For configs/taxi.yaml: Ingest, ImportSchemaGen, Validate, previous_span_resolver,
    pushed_span_resolver, DataDrift, Trainer, baseline_model_resolver, SliceEval, GovernedPush;
    configs/taxi_transform.yaml adds Transform after Validate.
    With `every`, also the stages the config switches off (`--set stages.drift.enabled=false`
    must not turn the config's `kubeflow.resources.DataDrift` into an error).
    """
    stages = config.stages
    ids = ["Ingest"]
    ids += ["ImportSchemaGen", "Validate"] if config.schema_file is not None else ["Validate", "SchemaGen"]
    if stages.transform.enabled or (every and stages.transform.module_file is not None):
        ids.append(TRANSFORM)
    if every or stages.drift.enabled:
        ids += [PREVIOUS_SPAN, PUSHED_SPAN, "DataDrift"]
    ids.append("Trainer")
    if every or stages.evaluation.enabled:
        ids += [BASELINE, "SliceEval"]
    if every or stages.push.enabled:
        ids.append("GovernedPush")
    return ids


def container_stages(config: PipelineConfig, *, every: bool = False) -> list[str]:
    """The stages that run as containers on Kubeflow (every node but the resolvers); see `stage_ids`."""
    return [node for node in stage_ids(config, every=every) if node not in RESOLVERS]
