"""The serving sample of skew (`stages.drift.serving`): checked against the schema's SERVING environment,
read with `data.null_values`."""

from __future__ import annotations

import csv

import pytest
from tensorflow_metadata.proto.v0 import schema_pb2

from tests import synthetic_drift
from tests.test_drift_pushed import write_examples
from tfxgate.components.drift import executor


def _schema() -> schema_pb2.Schema:
    """amount, score, city in TRAINING and SERVING; `label` in TRAINING only."""
    schema = schema_pb2.Schema(default_environment=["TRAINING", "SERVING"])
    for name, kind in (("amount", schema_pb2.FLOAT), ("score", schema_pb2.FLOAT), ("city", schema_pb2.BYTES)):
        schema.feature.add(name=name, type=kind)
    schema.feature.add(name="label", type=schema_pb2.INT, not_in_environment=["SERVING"])
    return schema


@pytest.fixture(scope="module")
def current(tmp_path_factory):
    table = synthetic_drift.base_table(rows=500, seed=0)
    table = {name: table[name] for name in ("amount", "score", "city")}
    table["label"] = (table["score"] > 100).astype(float)
    return write_examples(table, tmp_path_factory.mktemp("current"))


def _serving_csv(path, columns, *, token="NA"):
    rows = synthetic_drift.base_table(rows=300, seed=3)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i in range(300):
            writer.writerow([token if i % 50 == 0 and c == "score" else rows[c][i] for c in columns])
    return path


def _run(current, serving, tmp_path, **settings):
    return executor.run(
        examples_uri=current,
        examples_name="span 1",
        baselines={},
        schema=_schema(),
        settings=executor.Settings(policy="warn", thresholds={}, features={}, serving=str(serving), **settings),
        output_dir=str(tmp_path / "out"),
    )


def test_serving_sample_without_training_only_columns_passes(current, tmp_path):
    serving = _serving_csv(tmp_path / "serving.csv", ["amount", "score", "city"])
    [skew], _ = _run(current, serving, tmp_path, null_values=["NA"])
    assert skew.kind == "skew"
    score = next(f for f in skew.features if f.feature == "score")
    assert score.kind == "numeric", "NA read as a missing value, not as text"


def test_serving_sample_missing_a_serving_column_is_named(current, tmp_path):
    serving = _serving_csv(tmp_path / "serving.csv", ["amount", "city"])
    with pytest.raises(ValueError) as err:
        _run(current, serving, tmp_path, null_values=["NA"])
    assert str(err.value).startswith(f"stages.drift.serving: {serving} lacks 'score', expected in the schema's SERVING")


def test_serving_features_follow_tfdv_environment_rules():
    schema = _schema()
    schema.feature.add(name="only_serving", in_environment=["SERVING"])
    schema.feature.add(name="only_training", in_environment=["TRAINING"])
    assert executor.serving_features(schema) == {"amount", "score", "city", "only_serving"}
    assert executor.serving_features(schema_pb2.Schema(feature=[schema_pb2.Feature(name="x")])) == {"x"}
