"""Skew on the transformed features (stages.transform): a shift only the transform graph's view reveals.

Seeded: the training span has ten frequent cities (6% of the rows each) and ten
rare ones (4% each); the vocabulary keeps the ten most frequent and maps the
rest to one out-of-vocabulary id. The serving sample moves 1.5 points from
each frequent city to each rare one: per raw city the share moves by 0.015
(L∞ 0.015, PSI ~0.09: within the thresholds), but the out-of-vocabulary id goes
from 40% to 55% of the rows (L∞ 0.15 > 0.1). The graph is a real one, written
by tft_beam from a small preprocessing_fn.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from tensorflow_metadata.proto.v0 import schema_pb2

from tests.test_drift_pushed import write_examples
from tfxgate.components.drift import executor, transformed

FREQUENT = [f"frequent-{i}" for i in range(10)]
RARE = [f"rare-{i}" for i in range(10)]
THRESHOLDS = {"linf": 0.1, "psi": 0.2, "jsd": 1.0, "ks": 0.1, "wasserstein": 0.2, "missing": 0.05}


def _cities(rows: int, *, frequent_share: float, seed: int) -> np.ndarray:
    """Exactly `frequent_share / 10` of the rows per frequent city, the rest spread evenly over the rare ones."""
    per_frequent = round(rows * frequent_share / 10)
    per_rare = (rows - 10 * per_frequent) // 10
    values = [c for c in FREQUENT for _ in range(per_frequent)] + [c for c in RARE for _ in range(per_rare)]
    return np.random.default_rng(seed).permutation(np.asarray(values, dtype=object))


def _amounts(rows: int, *, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(20.0, 4.0, rows)


def _schema() -> schema_pb2.Schema:
    schema = schema_pb2.Schema()
    schema.feature.add(name="city", type=schema_pb2.BYTES)
    schema.feature.add(name="amount", type=schema_pb2.FLOAT)
    return schema


def _preprocessing_fn(inputs):
    import tensorflow as tf
    import tensorflow_transform as tft

    def dense(x, default):
        return tf.squeeze(tf.sparse.to_dense(tf.SparseTensor(x.indices, x.values, [x.dense_shape[0], 1]), default), 1)

    return {
        "city_xf": tft.compute_and_apply_vocabulary(dense(inputs["city"], ""), top_k=10, num_oov_buckets=1),
        "amount_xf": tft.scale_to_z_score(dense(inputs["amount"], 0.0)),
    }


@pytest.fixture(scope="module")
def training(tmp_path_factory):
    """(Examples artifact dir, transform graph dir) of a 5,000-row training span."""
    import tensorflow as tf
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import metadata_io

    root = tmp_path_factory.mktemp("transformed-skew")
    table = {"city": _cities(5000, frequent_share=0.6, seed=0), "amount": _amounts(5000, seed=1)}
    examples = write_examples(table, root / "examples")
    spec = {"city": tf.io.VarLenFeature(tf.string), "amount": tf.io.VarLenFeature(tf.float32)}
    rows = [{"city": [c], "amount": [float(a)]} for c, a in zip(table["city"], table["amount"], strict=True)]
    graph = str(root / "transform_graph")
    with tft_beam.Context(temp_dir=str(root / "tmp")):
        metadata = tft.DatasetMetadata.from_feature_spec(spec)
        transform_fn = (rows, metadata) | tft_beam.AnalyzeDataset(_preprocessing_fn)
        _ = transform_fn | tft_beam.WriteTransformFn(graph)
    metadata_io.write_metadata(metadata, f"{graph}/metadata")  # the raw schema, as TFX's Transform writes it
    return examples, graph


def _serving_csv(path):
    cities = _cities(2000, frequent_share=0.45, seed=2)
    amounts = _amounts(2000, seed=3)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["city", "amount"])
        writer.writerows(zip(cities, amounts, strict=True))
    return path


def _run(training, tmp_path, *, with_graph: bool):
    examples, graph = training
    return executor.run(
        examples_uri=examples,
        examples_name="span 0",
        baselines={},
        schema=_schema(),
        settings=executor.Settings(
            policy="warn", thresholds=THRESHOLDS, features={}, serving=str(_serving_csv(tmp_path / "serving.csv"))
        ),
        output_dir=str(tmp_path / "out"),
        transform_graph_uri=graph if with_graph else None,
    )


def test_only_the_transformed_view_reveals_a_vocabulary_shift(training, tmp_path):
    reports, blessed = _run(training, tmp_path, with_graph=True)
    by_kind = {r.kind: r for r in reports}
    assert set(by_kind) == {"skew", transformed.SKEW_TRANSFORMED}
    assert by_kind["skew"].flagged == []  # raw: every city's share moved by 0.015 only
    assert by_kind[transformed.SKEW_TRANSFORMED].flagged == ["city_xf"]  # the z-scored amount is not skewed
    city = next(f for f in by_kind[transformed.SKEW_TRANSFORMED].features if f.feature == "city_xf")
    assert city.kind == "categorical"  # the transformed schema marks vocabulary ids categorical
    assert city.values["linf"] == pytest.approx(0.15, abs=0.01)
    assert blessed is False
    page = (tmp_path / "out" / "drift_report.html").read_text()
    assert "city_xf" in page


def test_without_the_graph_the_same_sample_passes(training, tmp_path):
    reports, blessed = _run(training, tmp_path, with_graph=False)
    assert [r.kind for r in reports] == ["skew"] and blessed is True


def test_the_training_split_is_transformed_batch_by_batch_with_the_whole_splits_numbers(training):
    """The training side is summarised one record batch at a time (never held whole): batches of 7 records
    give the drift numbers of the whole split transformed at once."""
    from tfxgate.artifacts.examples import read_records, record_batches
    from tfxgate.drift.check import compare_tables

    examples, graph = training
    view = transformed.TransformedView(graph)
    split = f"{examples}/Split-train"
    batches = list(record_batches(split, batch_rows=7))
    assert len(batches) > 500 and max(len(b) for b in batches) == 7
    streamed, streamed_categorical = view.summarise(iter(batches), source="split 'train'")
    whole, whole_categorical = view.columns(read_records(split))
    assert streamed_categorical == whole_categorical == {"city_xf"}
    serving, serving_categorical = view.columns(read_records(split)[::3])
    found = compare_tables(streamed, serving, categorical=serving_categorical, baseline_categorical={"city_xf"})
    expected = compare_tables(whole, serving, categorical=serving_categorical, baseline_categorical={"city_xf"})
    for a, b in zip(found.features, expected.features, strict=True):
        assert a.feature == b.feature and a.n == b.n
        assert a.values == pytest.approx(b.values, rel=1e-9, abs=1e-12), a.feature
