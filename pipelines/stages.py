"""Config -> TFX nodes: one function per pipeline stage, the only code that reads the whole config.

`build.py` wires these in order. Each function takes the typed `PipelineConfig`
and the upstream channels, picks out the values its component needs (a policy,
thresholds, a label, a push root) and hands them to the component in
`components/`, which never sees the config itself. The stock TFX pieces that
remain (schema import or inference, the Trainer, and the stock Evaluator's `EvalConfig` the benchmarks compare against)
live here too.
"""

from __future__ import annotations

import json
from typing import Optional

import tensorflow_model_analysis as tfma
from tfx.components.schema_gen.component import SchemaGen
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.components.trainer.component import Trainer
from tfx.components.transform.component import Transform
from tfx.components.tuner.component import Tuner
from tfx.dsl.components.base import executor_spec
from tfx.dsl.components.common.importer import Importer
from tfx.proto import trainer_pb2, transform_pb2
from tfx.types import standard_artifacts

from tfxgate.components.drift import component as drift_component
from tfxgate.components.drift import executor as drift_executor
from tfxgate.components.governed_push.component import NODE_ID as PUSH_NODE_ID
from tfxgate.components.governed_push.component import GovernedPush, card_parameter, kubeflow_run_parameter
from tfxgate.components.ingest.component import Ingest
from tfxgate.components.slice_eval.baseline import latest_pushed_model_resolver
from tfxgate.components.slice_eval.component import SliceEval
from tfxgate.components.slice_eval.tfma_config import eval_config as slice_eval_config
from tfxgate.components.validate.component import Validate
from tfxgate.pipelines import stage_ids, trainer_cluster
from tfxgate.pipelines.config.root import PipelineConfig
from tfxgate.pipelines.kubeflow.resolvers import query_resolver


def ingest(config: PipelineConfig):
    """The Ingest node: `data` (files, splits, spans, bad-row budget) and the curated schema's text."""
    data = config.data
    return Ingest(
        input_base=str(data.input_base),
        input_pattern=data.input_pattern,
        splits=dict(data.splits),
        data_format=data.format,
        key=data.key,
        span=data.span,
        span_range=data.span_range.numbers() if data.span_range else None,
        schema_text=config.schema_file.read_text() if config.schema_file else None,
        max_bad_rows=data.max_bad_rows,
        engine=data.engine,
        null_values=data.null_values,
        split_key=data.split_key,
        block_bytes=data.block_bytes,
        # The Arrow copy stays: Validate, always in the pipeline, reads it (as DataDrift does).
    )


def schema(config: PipelineConfig, statistics=None):
    """The curated schema when the config names one, else one SchemaGen infers from `statistics`."""
    if config.schema_file is not None:
        return ImportSchemaGen(schema_file=str(config.schema_file))
    return SchemaGen(statistics=statistics, infer_feature_shape=False)


def _handover_beam_args(config: PipelineConfig) -> Optional[list[str]]:
    """`runner.beam`'s flags for Validate's and DataDrift's own Beam jobs, when the runner is not the DirectRunner
    (they then read the splits on the cluster, as Ingest's Beam engine does); None: they work in their process."""
    return config.runner.beam.pipeline_args() if config.runner.beam.runner != "direct" else None


def validate(config: PipelineConfig, examples, schema_channel=None):
    """The Validate node for `stages.validation` (statistics only, every anomaly ignored, when disabled)."""
    stage = config.stages.validation
    settings = stage.settings()
    if not stage.enabled:
        settings.update(default="ignore", anomalies={}, features={})
    if config.runner.max_in_memory_bytes is not None:  # unset stays out, so existing cache keys hold
        settings["max_in_memory_bytes"] = config.runner.max_in_memory_bytes
    beam_args = _handover_beam_args(config)
    if beam_args:  # the handover to TFDV on Beam runs where Ingest's Beam engine does
        settings["beam_args"] = beam_args
    return Validate(examples=examples, schema=schema_channel, config_json=json.dumps(settings, sort_keys=True))


def drift(config: PipelineConfig, examples, schema_channel, *, target: str = "local", transform_graph=None) -> list:
    """The baseline resolvers and the DataDrift node for `stages.drift`.

    Kubeflow's V2 compiler accepts only TFX's stock resolver strategies (it turns
    them into ML Metadata queries; no strategy code runs on the cluster), so there
    both resolvers are stand-ins whose queries the compile replaces
    (pipelines/kubeflow/resolvers.py). With `transform_graph`, skew is also
    measured on the transformed features.
    """
    stage = config.stages.drift
    settings = drift_executor.Settings(
        policy=stage.policy,
        thresholds=stage.merged_thresholds(),
        features={name: dict(values) for name, values in stage.features.items()},
        serving=stage.serving,
        significance=stage.significance,
        null_values=list(config.data.null_values),
        max_in_memory_bytes=config.runner.max_in_memory_bytes,
        beam_args=_handover_beam_args(config),
    )
    config_json = settings.to_json()
    if target == "local":
        previous = drift_component.previous_span_resolver(examples)
        pushed = drift_component.pushed_span_resolver(examples)
    else:
        previous = query_resolver(stage_ids.PREVIOUS_SPAN, drift_component.EXAMPLES, standard_artifacts.Examples)
        pushed = query_resolver(stage_ids.PUSHED_SPAN, drift_component.EXAMPLES, standard_artifacts.Examples)
    node = drift_component.DataDrift(
        examples=examples,
        schema=schema_channel,
        baseline_examples=previous.outputs[drift_component.EXAMPLES],
        pushed_examples=pushed.outputs[drift_component.EXAMPLES],
        transform_graph=transform_graph,
        config_json=config_json,
    )
    return [previous, pushed, node]


def transform(config: PipelineConfig, examples, schema_channel):
    """Stock TFX Transform running `stages.transform.module_file`'s preprocessing_fn on Ingest's examples."""
    stage = config.stages.transform
    return Transform(
        examples=examples,
        schema=schema_channel,
        module_file=str(stage.module_file),
        splits_config=transform_pb2.SplitsConfig(analyze=stage.analyze_splits, transform=stage.transform_splits),
        custom_config=dict(stage.custom_config) or None,
        disable_statistics=not stage.statistics,
    ).with_id(stage_ids.TRANSFORM)


def trainer(config: PipelineConfig, examples, schema_channel, *, transform_graph=None, hyperparameters=None):
    """The stock Trainer running `stages.trainer.module_file`.

    With `transform_graph`, `examples` are Transform's transformed examples (TFX's standard wiring);
    with `hyperparameters`, it trains with the Tuner's best (`fn_args.hyperparameters`).
    """
    stage = config.stages.trainer
    # Only a multi-process config swaps the executor: a one-process Trainer stays stock TFX.
    cluster = {}
    if stage.local_workers > 1:
        cluster["custom_executor_spec"] = executor_spec.ExecutorClassSpec(trainer_cluster.LoopbackClusterExecutor)
    return Trainer(
        **cluster,
        module_file=str(stage.module_file),
        examples=examples,
        schema=schema_channel,
        hyperparameters=hyperparameters,
        transform_graph=transform_graph,
        train_args=trainer_pb2.TrainArgs(num_steps=stage.train_steps),
        eval_args=trainer_pb2.EvalArgs(num_steps=stage.eval_steps),
        custom_config=stage.custom_config(),
    )


def tune(config: PipelineConfig, examples, schema_channel, *, transform_graph=None, reuse=None):
    """`stages.tune`: the stock Tuner, or (`reuse`, a `tuning.LastTuning`) the Importer of its last best result.

    Returns the node and its channel of best hyperparameters for the Trainer.
    """
    if reuse is not None:
        importer = Importer(
            source_uri=reuse.uri, artifact_type=standard_artifacts.HyperParameters, reimport=False
        ).with_id(stage_ids.BEST_HYPERPARAMETERS)
        return importer, importer.outputs["result"]
    stage = config.stages.tune
    tuner = Tuner(
        module_file=str(config.stages.trainer.module_file),
        examples=examples,
        schema=schema_channel,
        transform_graph=transform_graph,
        train_args=trainer_pb2.TrainArgs(num_steps=stage.train_steps),
        eval_args=trainer_pb2.EvalArgs(num_steps=stage.eval_steps),
        custom_config=tune_custom_config(config),
    )
    return tuner, tuner.outputs["best_hyperparameters"]


def tune_custom_config(config: PipelineConfig) -> dict:
    """The Tuner's custom_config: the trainer's (its columns, defaults) plus `tune`, the search."""
    return {**config.stages.trainer.custom_config(), "tune": config.stages.tune.custom_config()}


def baseline(candidate_model, *, target: str = "local"):
    """The latest blessed-and-pushed model of this pipeline other than the candidate.

    On Kubeflow a stand-in whose query the compile replaces (pipelines/kubeflow/resolvers.py).
    """
    if target == "local":
        return latest_pushed_model_resolver(candidate_model).with_id(stage_ids.BASELINE)
    return query_resolver(stage_ids.BASELINE, "model", standard_artifacts.Model)


def evaluation(config: PipelineConfig, examples, model, baseline_model):
    """SliceEval on the eval split, configured by `stages.evaluation` and the data's label."""
    return SliceEval(
        examples=examples,
        model=model,
        baseline_model=baseline_model,
        stage=config.stages.evaluation,
        label=config.data.label,
        label_kind=config.data.label_spec,
        max_in_memory_bytes=config.runner.max_in_memory_bytes,
    ).with_id("SliceEval")


def governed_push(
    config: PipelineConfig,
    *,
    model,
    examples,
    anomalies=None,
    drift_blessing=None,
    model_blessing=None,
    infra_blessing=None,
    target: str = "local",
) -> GovernedPush:
    """The GovernedPush node for `stages.push`.

    On the local target the executor may open the pipeline's ML Metadata store
    (read-only, for the model card's evidence); what it gets names the store and
    at most the *name* of a password variable, never a secret. A Kubeflow step
    has no such store, so it gets no card parameter, but the pipeline's name and
    KFP's run name for its push records.
    """
    card, kubeflow_run = "", ""
    if target != "local":
        kubeflow_run = kubeflow_run_parameter(config.pipeline.name)
    else:
        card = card_parameter(
            metadata=config.metadata.model_dump(mode="json"),
            root=config.pipeline.root,
            card_info=config.stages.push.model_card.model_dump(mode="json"),
        )
    return GovernedPush(
        model=model,
        stage=config.stages.push,
        examples=examples,
        anomalies=anomalies,
        drift_blessing=drift_blessing,
        model_blessing=model_blessing,
        infra_blessing=infra_blessing,
        card=card,
        kubeflow_run=kubeflow_run,
    ).with_id(PUSH_NODE_ID)


def stock_eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """TFMA's EvalConfig for the stock Evaluator (the benchmarks' stock side): SliceEval's slices and metrics.

    The stock Evaluator can only gate the overall slice (small slices are too
    noisy to gate without a minimum size, which SliceEval adds), and it reads
    one unnamed model spec.
    """
    built = slice_eval_config(
        config.stages.evaluation,
        label=config.data.label,
        with_baseline=False,
        gate_overall=True,
        kind=config.data.label_spec,
    )
    built.model_specs[0].ClearField("name")
    # The stock Evaluator has no bucket column: slice on the raw feature instead.
    for spec in built.slicing_specs:
        keys = [key[: -len("_bucket")] if key.endswith("_bucket") else key for key in spec.feature_keys]
        spec.ClearField("feature_keys")
        spec.feature_keys.extend(keys)
    return built
