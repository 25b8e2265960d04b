"""The pipeline of the `validate_drift_1m` benchmark, run in its own process.

One TFX pipeline, both sides starting from the same CSV, each with its own ingestion:

    ImportSchemaGen ─┬─> ours:  Ingest ─> Validate ─> DataDrift (this span vs a previous span)
                     └─> stock: CsvExampleGen ─> StatisticsGen ─> ExampleValidator ─> TfdvDrift

Ingest's cost counts on our side, its Arrow copy of the splits (which exists
only to feed Validate and DataDrift) included; CsvExampleGen's on stock's.
`TfdvDrift` is the stock drift check: `tfdv.validate_statistics` with
`previous_statistics` and a drift comparator on every feature (L-infinity for
strings, Jensen-Shannon for numbers), on StatisticsGen's statistics. The
previous span is this span's Examples again (same rows, so the work is that of
two spans and nothing drifts). TFX, TensorFlow and TFDV are imported before the
run starts, so neither side pays the imports inside its component seconds.
Writes `{"seconds": ...}` (the LocalDagRunner's wall time) to `--report`.
"""

# No `from __future__ import annotations`: TFX's @component reads the annotations as types.

import argparse
import json
import time
from pathlib import Path

from tfx import v1 as tfx
from tfx.types import standard_artifacts

from benchmarks.ingest_sides import SPLITS, stock_example_gen

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "taxi" / "schema.pbtxt"


@tfx.dsl.components.component
def TfdvDrift(
    statistics: tfx.dsl.components.InputArtifact[standard_artifacts.ExampleStatistics],
    previous_statistics: tfx.dsl.components.InputArtifact[standard_artifacts.ExampleStatistics],
    schema: tfx.dsl.components.InputArtifact[standard_artifacts.Schema],
    anomalies: tfx.dsl.components.OutputArtifact[standard_artifacts.ExampleAnomalies],
) -> None:
    """TFDV's drift comparator (L-inf / JSD on every feature) on the train split's statistics."""
    import os

    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx.components.statistics_gen import stats_artifact_utils
    from tfx.utils import io_utils

    schema_proto = tfdv.load_schema_text(io_utils.get_only_uri_in_dir(schema.uri))
    for feature in schema_proto.feature:
        if feature.type == schema_pb2.BYTES:
            feature.drift_comparator.infinity_norm.threshold = 0.1
        else:
            feature.drift_comparator.jensen_shannon_divergence.threshold = 0.1
    current = stats_artifact_utils.load_statistics(statistics, "train").proto()
    previous = stats_artifact_utils.load_statistics(previous_statistics, "train").proto()
    found = tfdv.validate_statistics(current, schema_proto, previous_statistics=previous)
    os.makedirs(os.path.join(anomalies.uri, "Split-train"), exist_ok=True)
    tfdv.write_anomalies_text(found, os.path.join(anomalies.uri, "Split-train", "drift.pbtxt"))


def build(data: Path, root: Path) -> tfx.dsl.Pipeline:
    from tfxgate.components.drift import executor as drift_executor
    from tfxgate.components.drift.component import DataDrift
    from tfxgate.components.ingest.component import Ingest
    from tfxgate.components.validate.component import Validate
    from tfxgate.drift.check import DEFAULT_THRESHOLDS

    schema_gen = tfx.components.ImportSchemaGen(schema_file=str(SCHEMA))
    ingest = Ingest(input_base=str(data.parent), input_pattern=data.name, splits=SPLITS, schema_text=SCHEMA.read_text())
    examples, schema = ingest.outputs["examples"], schema_gen.outputs["schema"]
    example_gen = stock_example_gen(data)
    settings = drift_executor.Settings(policy="warn", thresholds=dict(DEFAULT_THRESHOLDS), features={})
    validation = json.dumps({"environment": "TRAINING", "default": "warn"})
    ours = [
        Validate(examples=examples, schema=schema, config_json=validation),
        DataDrift(
            examples=examples, schema=schema, baseline_examples=examples, config_json=json.dumps(settings.__dict__)
        ),
    ]
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    statistics = statistics_gen.outputs["statistics"]
    stock = [
        example_gen,
        statistics_gen,
        tfx.components.ExampleValidator(statistics=statistics, schema=schema),
        TfdvDrift(statistics=statistics, previous_statistics=statistics, schema=schema),
    ]
    return tfx.dsl.Pipeline(
        pipeline_name="validate-drift",
        pipeline_root=str(root / "artifacts"),
        components=[schema_gen, ingest, *ours, *stock],
        enable_cache=False,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(root / "metadata.sqlite")
        ),
        beam_pipeline_args=["--direct_running_mode=in_memory", "--direct_num_workers=1"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    args = parser.parse_args()
    import tensorflow  # noqa: F401  (imports paid before the clock, for both sides alike)
    import tensorflow_data_validation  # noqa: F401

    pipeline = build(args.data, args.root)
    began = time.monotonic()
    tfx.orchestration.LocalDagRunner().run(pipeline)
    args.report.write_text(json.dumps({"seconds": round(time.monotonic() - began, 2)}) + "\n")


if __name__ == "__main__":
    main()
