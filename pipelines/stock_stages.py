"""One function per pipeline stage, built from stock TFX components.

Each function takes the typed config and the upstream channels and returns a
TFX node. `build.py` wires them; replacing a stage with a tfxgate component
(e.g. `components/ingest`) is a change of one line there.
"""

from __future__ import annotations

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx
from tfx.components.example_gen.custom_executors import parquet_executor
from tfx.dsl.components.base import executor_spec
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy

from tfxgate.components.slice_eval.tfma_config import eval_config as slice_eval_config
from tfxgate.pipelines.baseline import CANDIDATE, MODEL, MODEL_BLESSING, LatestBlessedOtherModelStrategy
from tfxgate.pipelines.config.root import PipelineConfig


def ingest(config: PipelineConfig):
    """Reads the configured files into hash-split tf.Examples."""
    data = config.data
    split_config = tfx.proto.SplitConfig(
        splits=[tfx.proto.SplitConfig.Split(name=name, hash_buckets=n) for name, n in data.splits.items()]
    )
    if data.key:
        split_config.partition_feature_name = data.key
    kwargs = dict(
        input_base=str(data.input_base),
        input_config=tfx.proto.Input(splits=[tfx.proto.Input.Split(name="single_split", pattern=data.input_pattern)]),
        output_config=tfx.proto.Output(split_config=split_config),
    )
    if data.format == "parquet":
        return tfx.components.FileBasedExampleGen(
            custom_executor_spec=executor_spec.BeamExecutorSpec(parquet_executor.Executor), **kwargs
        )
    return tfx.components.CsvExampleGen(**kwargs)


def statistics(config: PipelineConfig, examples):
    return tfx.components.StatisticsGen(examples=examples)


def schema(config: PipelineConfig, statistics_channel):
    """The curated schema when the config names one, else one inferred from the data."""
    if config.schema_file is not None:
        return tfx.components.ImportSchemaGen(schema_file=str(config.schema_file))
    return tfx.components.SchemaGen(statistics=statistics_channel, infer_feature_shape=False)


def validation(config: PipelineConfig, statistics_channel, schema_channel):
    return tfx.components.ExampleValidator(statistics=statistics_channel, schema=schema_channel)


def trainer(config: PipelineConfig, examples, schema_channel):
    stage = config.stages.trainer
    return tfx.components.Trainer(
        module_file=str(stage.module_file),
        examples=examples,
        schema=schema_channel,
        train_args=tfx.proto.TrainArgs(num_steps=stage.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=stage.eval_steps),
        custom_config=stage.custom_config(),
    )


def baseline(config: PipelineConfig, candidate_model):
    """The latest blessed model other than this run's candidate (see baseline.py)."""
    return tfx.dsl.Resolver(
        strategy_class=LatestBlessedOtherModelStrategy,
        **{
            MODEL: tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
            MODEL_BLESSING: tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
            CANDIDATE: candidate_model,
        },
    ).with_id("baseline_model_resolver")


def stock_baseline(config: PipelineConfig):
    """TFX's latest-blessed-model resolver, for the Kubeflow target.

    The Kubeflow V2 compiler (`step_builder._build_resolver_spec`) accepts only
    `LatestBlessedModelStrategy` and `LatestArtifactStrategy` (compared by class,
    so a subclass is refused): it turns them into ML Metadata queries that the
    KFP backend runs, no Python strategy code runs on the cluster. On Kubeflow a
    cached Trainer can therefore be its own baseline; KFP's cache then serves
    the Evaluator too only if that baseline is unchanged.
    """
    return tfx.dsl.Resolver(
        strategy_class=LatestBlessedModelStrategy,
        **{
            MODEL: tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
            MODEL_BLESSING: tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
        },
    ).with_id("baseline_model_resolver")


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """TFMA's EvalConfig for the stock Evaluator: the same slices and metrics as SliceEval.

    The stock Evaluator can only gate the overall slice (small slices are too
    noisy to gate without a minimum size, which SliceEval adds), and it reads
    one unnamed model spec.
    """
    built = slice_eval_config(config.stages.evaluation, label=config.data.label, with_baseline=False, gate_overall=True)
    built.model_specs[0].ClearField("name")
    # The stock Evaluator has no bucket column: slice on the raw feature instead.
    for spec in built.slicing_specs:
        keys = [key[: -len("_bucket")] if key.endswith("_bucket") else key for key in spec.feature_keys]
        spec.ClearField("feature_keys")
        spec.feature_keys.extend(keys)
    return built


def evaluation(config: PipelineConfig, examples, model, baseline_model):
    return tfx.components.Evaluator(
        examples=examples, model=model, baseline_model=baseline_model, eval_config=eval_config(config)
    )


def push(config: PipelineConfig, model, blessing):
    """The stock Pusher, to the push root itself (tfxgate builds GovernedPush instead)."""
    destination = tfx.proto.PushDestination(
        filesystem=tfx.proto.PushDestination.Filesystem(base_directory=str(config.stages.push.root))
    )
    return tfx.components.Pusher(model=model, model_blessing=blessing, push_destination=destination)
