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
# Stands in for the Tuner when `stages.tune.rerun` reuses the last best hyperparameters (pipelines/tuning.py).
BEST_HYPERPARAMETERS = "best_hyperparameters_importer"
RESOLVERS = (PREVIOUS_SPAN, PUSHED_SPAN, BASELINE, BEST_HYPERPARAMETERS)
RESOLVERS = (PREVIOUS_SPAN, PUSHED_SPAN, BASELINE)
TRANSFORM = "Transform"  # stock TFX Transform (stages.transform)


def stage_ids(config: PipelineConfig, *, every: bool = False, tuned: bool = True) -> list[str]:
    """Every node id of the pipeline `build_pipeline(config)` builds, in build order.

    For configs/taxi.yaml: Ingest, ImportSchemaGen, Validate, previous_span_resolver,
    pushed_span_resolver, DataDrift, Trainer, baseline_model_resolver, SliceEval, GovernedPush;
    configs/taxi_transform.yaml adds Transform after Validate.
    With `every`, also the stages the config switches off (`--set stages.drift.enabled=false`
    must not turn the config's `kubeflow.resources.DataDrift` into an error). With `stages.tune`
    the Tuner comes before the Trainer, or (`tuned=False`: a run that reuses the last search) the
    importer of its best hyperparameters.
    """
    stages = config.stages
    ids = ["Ingest"]
    ids += ["ImportSchemaGen", "Validate"] if config.schema_file is not None else ["Validate", "SchemaGen"]
    if stages.transform.enabled or (every and stages.transform.module_file is not None):
        ids.append(TRANSFORM)
    if every or stages.drift.enabled:
        ids += [PREVIOUS_SPAN, PUSHED_SPAN, "DataDrift"]
    if stages.tune.enabled:  # like Transform: only when enabled (it needs the module's tuner_fn)
        ids.append("Tuner" if tuned or every else BEST_HYPERPARAMETERS)
    ids.append("Trainer")
    if every or stages.evaluation.enabled:
        ids += [BASELINE, "SliceEval"]
    if every or stages.push.enabled:
        ids.append("GovernedPush")
    return ids


def container_stages(config: PipelineConfig, *, every: bool = False) -> list[str]:
    """The stages that run as containers on Kubeflow (every node but the resolvers); see `stage_ids`."""
    return [node for node in stage_ids(config, every=every) if node not in RESOLVERS]
