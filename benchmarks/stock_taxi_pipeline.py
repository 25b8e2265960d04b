"""The stock-TFX side of the taxi benchmark: the TFX Chicago-taxi example, written plainly.

Built the way `tfx/examples/chicago_taxi_pipeline` builds it: stock components,
the stock `LatestBlessedModelStrategy` resolver, stock `LocalDagRunner`, SQLite
ML Metadata. It is what a user writes without tfxgate, so it is what tfxgate is
measured against. The values that must match ours (schema, trainer module, steps,
hyperparameters, the EvalConfig, Beam args) are read from the same tfxgate
config, so the two sides cannot silently drift apart; nothing else of tfxgate runs.

    python -m benchmarks.stock_taxi_pipeline --root DIR --serving DIR [--data CSV] [--report JSON]

One invocation is one pipeline run; run it twice on the same root for a rerun.
"""

from __future__ import annotations

import os

# TF 2.16 ships Keras 3; TFX 1.16 and TFMA need Keras 2 (tf_keras). Must precede any TF import.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def build(config, *, root: Path, serving: Path, data: Path):
    """The stock taxi pipeline, component for component like the TFX example."""
    from tfx import v1 as tfx

    from tfxgate.pipelines.stages import stock_eval_config

    trainer_stage = config.stages.trainer
    example_gen = tfx.components.CsvExampleGen(input_base=str(data.parent))
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.ImportSchemaGen(schema_file=str(config.schema_file))
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    trainer = tfx.components.Trainer(
        module_file=str(trainer_stage.module_file),
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=trainer_stage.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=trainer_stage.eval_steps),
        custom_config=dict(trainer_stage.hyperparameters),
    )
    model_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"],
        eval_config=stock_eval_config(config),
    )
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=str(serving))
        ),
    )
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline.name,
        pipeline_root=str(root / "artifacts"),
        components=[
            example_gen,
            statistics_gen,
            schema_gen,
            example_validator,
            trainer,
            model_resolver,
            evaluator,
            pusher,
        ],
        enable_cache=True,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(root / "metadata.sqlite")
        ),
        beam_pipeline_args=config.runner.beam.pipeline_args(),
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="pipeline root: artifacts and metadata.sqlite")
    parser.add_argument("--serving", type=Path, required=True, help="Pusher destination")
    parser.add_argument("--data", type=Path, help="CSV to read (default: the config's data.path)")
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "taxi.yaml")
    parser.add_argument("--report", type=Path, help="write {setup_seconds, pipeline_seconds} here as JSON")
    args = parser.parse_args(argv)

    from tfxgate.pipelines.config.root import load_config

    config = load_config(args.config)
    data = args.data or Path(config.data.path)
    root = args.root.resolve()
    root.mkdir(parents=True, exist_ok=True)

    began = time.monotonic()
    from tfx import v1 as tfx

    pipeline = build(config, root=root, serving=args.serving.resolve(), data=data.resolve())
    imported = time.monotonic()  # TFX/TFMA imports and the pipeline definition
    tfx.orchestration.LocalDagRunner().run(pipeline)
    finished = time.monotonic()

    report = {"setup_seconds": round(imported - began, 2), "pipeline_seconds": round(finished - imported, 2)}
    print(json.dumps(report), flush=True)
    if args.report:
        args.report.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
