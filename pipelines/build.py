"""Config -> TFX pipeline.

The only place that knows the order of stages and how their channels connect.
Each node comes from one function of `stages.py` (config -> node): tfxgate's
Ingest, Validate, DataDrift, SliceEval and GovernedPush, with stock TFX's
schema import/inference, Transform (optional) and Trainer between them.
"""

from __future__ import annotations

from typing import Literal

from tfx.orchestration.pipeline import Pipeline

from tfxgate.mlmd.store import connection_config
from tfxgate.pipelines import stages, tuning
from tfxgate.pipelines.config.root import PipelineConfig
from tfxgate.pipelines.stage_ids import stage_ids


def build_pipeline(config: PipelineConfig, *, target: Literal["local", "kubeflow"] = "local") -> Pipeline:
    """Builds the TFX pipeline a config describes (nothing runs here).

    For `target="kubeflow"` the artifacts go under `kubeflow.pipeline_root`, there
    is no local ML Metadata connection, and the resolvers are stock stand-ins whose
    queries the compile replaces (pipelines/kubeflow/resolvers.py). The node ids are
    checked against `stage_ids.stage_ids(config)`, what per-stage settings may name.
    """
    enabled = config.stages
    nodes = []

    example_gen = stages.ingest(config)
    nodes.append(example_gen)
    examples = example_gen.outputs["examples"]

    # Validate = statistics + anomalies (stock: StatisticsGen + ExampleValidator). With a
    # curated schema it checks against it; without, SchemaGen infers one from its statistics.
    if config.schema_file is not None:
        schema_gen = stages.schema(config)
        validate = stages.validate(config, examples, schema_gen.outputs["schema"])
        nodes += [schema_gen, validate]
    else:
        validate = stages.validate(config, examples)
        schema_gen = stages.schema(config, validate.outputs["statistics"])
        nodes += [validate, schema_gen]
    schema = schema_gen.outputs["schema"]

    # With validation disabled Validate still computes statistics, and its anomalies are all
    # "ignored", so the validation gate of the push passes: it is not configured to judge.
    anomalies = validate.outputs["anomalies"]
    gates = [validate]  # nodes that must pass before training starts
    # Transform (stock TFX) after validation: the Trainer reads its transformed examples and
    # graph, and the skew check applies the same graph to the serving sample.
    training_examples, transform_graph = examples, None
    if enabled.transform.enabled:
        transform = stages.transform(config, examples, schema)
        transform.add_upstream_node(validate)
        nodes.append(transform)
        training_examples = transform.outputs["transformed_examples"]
        transform_graph = transform.outputs["transform_graph"]
    drift_blessing = None
    if enabled.drift.enabled:
        drift = stages.drift(config, examples, schema, target=target, transform_graph=transform_graph)
        nodes += drift
        gates += drift
        drift_blessing = drift[-1].outputs["drift_blessing"]

    hyperparameters = None
    tuned = True
    if enabled.tune.enabled:
        reuse = None
        if target == "local":  # a compiled pipeline has no store to ask: it always tunes (pipelines/tuning.py)
            decision = tuning.decide(config, ingest_node=example_gen, custom_config=stages.tune_custom_config(config))
            reuse, tuned = decision.reuse, decision.tune
        tune, hyperparameters = stages.tune(
            config, training_examples, schema, transform_graph=transform_graph, reuse=reuse
        )
        if tuned:
            for gate in gates:  # no search on data the gates refuse
                tune.add_upstream_node(gate)
        nodes.append(tune)

    trainer = stages.trainer(
        config, training_examples, schema, transform_graph=transform_graph, hyperparameters=hyperparameters
    )
    for gate in gates:
        trainer.add_upstream_node(gate)
    nodes.append(trainer)
    model = trainer.outputs["model"]

    blessing = None
    if enabled.evaluation.enabled:
        baseline = stages.baseline(model, target=target)
        evaluator = stages.evaluation(config, examples, model, baseline.outputs["model"])
        nodes += [baseline, evaluator]
        blessing = evaluator.outputs["blessing"]

    if enabled.push.enabled:
        nodes.append(
            stages.governed_push(
                config,
                model=model,
                examples=examples,
                anomalies=anomalies,
                drift_blessing=drift_blessing,
                model_blessing=blessing,
                target=target,
            )
        )

    built = [node.id for node in nodes]
    expected = stage_ids(config, tuned=tuned)
    if built != expected:  # a new or renamed node: pipelines/stage_ids.py must say so
        raise AssertionError(f"built nodes {built} != stage_ids {expected} (update pipelines/stage_ids.py)")
    kubeflow = target == "kubeflow"
    return Pipeline(
        pipeline_name=config.pipeline.name,
        pipeline_root=config.kubeflow.pipeline_root if kubeflow else str(config.pipeline.root / "artifacts"),
        components=nodes,
        enable_cache=config.pipeline.enable_cache,
        metadata_connection_config=None if kubeflow else metadata_connection(config),
        beam_pipeline_args=config.runner.beam.pipeline_args(),
    )


def metadata_connection(config: PipelineConfig):
    """The ML Metadata connection config for the configured store (SQLite or MySQL)."""
    return connection_config(config.metadata, root=config.pipeline.root)
