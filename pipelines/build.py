"""Config -> TFX pipeline.

The only place that knows the order of stages and how their channels connect.
Each stage comes from `stock_stages` today; when a tfxgate component replaces a
stock one (ingestion, validation, drift, slice evaluation, governed push), the
change here is one line: the function that builds that stage.
"""

from __future__ import annotations

from tfx import v1 as tfx
from tfx.orchestration import metadata

from tfxgate.components.drift.component import drift_stage
from tfxgate.pipelines import stock_stages as stages
from tfxgate.pipelines.config import PipelineConfig


def build_pipeline(config: PipelineConfig) -> tfx.dsl.Pipeline:
    """Builds the TFX pipeline a config describes (nothing runs here)."""
    enabled = config.stages
    nodes = []

    example_gen = stages.ingest(config)
    nodes.append(example_gen)
    examples = example_gen.outputs["examples"]

    statistics_gen = stages.statistics(config, examples)
    nodes.append(statistics_gen)
    statistics = statistics_gen.outputs["statistics"]

    schema_gen = stages.schema(config, statistics)
    nodes.append(schema_gen)
    schema = schema_gen.outputs["schema"]

    if enabled.validation.enabled:
        nodes.append(stages.validation(config, statistics, schema))

    gates = []  # nodes that must pass before training starts
    if enabled.drift.enabled:
        gates = drift_stage(config, examples, schema)
        nodes += gates

    trainer = stages.trainer(config, examples, schema)
    for gate in gates:
        trainer.add_upstream_node(gate)
    nodes.append(trainer)
    model = trainer.outputs["model"]

    blessing = None
    if enabled.evaluation.enabled:
        baseline = stages.baseline(config, model)
        evaluator = stages.evaluation(config, examples, model, baseline.outputs["model"])
        nodes += [baseline, evaluator]
        blessing = evaluator.outputs["blessing"]

    if enabled.push.enabled:
        nodes.append(stages.push(config, model, blessing))

    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline.name,
        pipeline_root=str(config.pipeline.root / "artifacts"),
        components=nodes,
        enable_cache=config.pipeline.enable_cache,
        metadata_connection_config=metadata_connection(config),
        beam_pipeline_args=config.runner.beam.pipeline_args(),
    )


def metadata_connection(config: PipelineConfig):
    """The ML Metadata connection config for the configured store."""
    return metadata.sqlite_metadata_connection_config(str(config.metadata_path))
