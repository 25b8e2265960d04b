"""Unit tests of serving monitoring's pure parts: metrics per slice, prediction drift, the breach rules,
reading logs and labels, and the `monitoring:` section (tfxgate/monitoring)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_config import MINIMAL, problems, write_config
from tfxgate.components.slice_eval.settings import Buckets
from tfxgate.monitoring import logs
from tfxgate.monitoring.check import Limits, ModelCheck, judge, prediction_measures
from tfxgate.monitoring.metrics import Slicing, auc, binary_metrics, per_slice, slice_keys
from tfxgate.pipelines.config.root import load_config

HOURS = Buckets(feature="hour", buckets=[0, 12, 24])
SLICINGS = [
    Slicing(()),
    Slicing(("payment",)),
    Slicing(("hour_bucket",), {"hour_bucket": ("hour", HOURS.label)}),
    Slicing(("payment", "hour_bucket"), {"hour_bucket": ("hour", HOURS.label)}),
]


def test_binary_metrics_follow_slice_eval_definitions():
    found = binary_metrics(np.array([1, 1, 0, 0, 1]), np.array([0.9, 0.4, 0.6, 0.1, 0.8]), threshold=0.5)
    assert found["example_count"] == 5
    assert found["mean_label"] == pytest.approx(0.6)
    assert found["binary_accuracy"] == pytest.approx(3 / 5)  # 0.9, 0.1, 0.8 right; 0.4, 0.6 wrong
    assert found["precision"] == pytest.approx(2 / 3)
    assert found["recall"] == pytest.approx(2 / 3)
    assert found["calibration"] == pytest.approx(np.mean([0.9, 0.4, 0.6, 0.1, 0.8]) / 0.6)
    assert found["auc"] == pytest.approx(5 / 6)  # 5 of the 6 (positive, negative) pairs ordered right


def test_auc_is_undefined_with_one_class_and_counts_ties_half():
    assert math.isnan(auc(np.array([1, 1]), np.array([0.2, 0.3])))
    assert auc(np.array([1, 0]), np.array([0.5, 0.5])) == 0.5


def test_slices_are_named_as_slice_eval_names_them():
    columns = {"payment": np.array(["Cash", "Card", None], dtype=object), "hour": np.array([3.0, 13.0, 5.0])}
    assert list(slice_keys(columns, SLICINGS[0])) == ["Overall"] * 3
    assert list(slice_keys(columns, SLICINGS[2])) == ["hour_bucket=[0,12)", "hour_bucket=[12,24)", "hour_bucket=[0,12)"]
    assert list(slice_keys(columns, SLICINGS[3])) == [
        "payment=Cash, hour_bucket=[0,12)",
        "payment=Card, hour_bucket=[12,24)",
        None,  # a row missing a slicing column is in none of its slices
    ]
    assert slice_keys(columns, Slicing(("company",))) is None


def _labelled(rng, n=2000, *, flip_cash=False):
    payment = rng.choice(np.array(["Cash", "Card"], dtype=object), size=n)
    hour = rng.integers(0, 24, size=n).astype(float)
    truth = rng.random(n) < np.where(payment == "Card", 0.8, 0.1)
    predictions = np.clip(np.where(truth, 0.75, 0.25) + rng.normal(0, 0.1, n), 0, 1)
    labels = truth.astype(float)
    if flip_cash:
        labels = np.where(payment == "Cash", 1 - labels, labels)
    return {"payment": payment, "hour": hour}, labels, predictions


def _judge(columns, labels, predictions, at_push, *, reference=None, min_examples=50):
    limits = Limits(
        drift={"psi": 0.2, "ks": 0.1},
        prediction={"psi": 0.2, "ks": 0.1},
        metrics={"binary_accuracy": 0.1, "auc": 0.05},
        min_examples=min_examples,
        significance=0.05,
    )
    return judge(
        ModelCheck("candidate", "2", 7, len(labels), len(labels)),
        training=columns,
        training_categorical={"payment"},
        serving=columns,
        serving_categorical={"payment"},
        predictions=predictions,
        reference_predictions=predictions if reference is None else reference,
        labelled=columns,
        labels=labels,
        labelled_predictions=predictions,
        at_push=at_push,
        slicings=SLICINGS,
        decision_threshold=0.5,
        limits=limits,
    )


def test_a_label_change_in_one_slice_breaches_that_slice_and_names_it():
    rng = np.random.default_rng(0)
    columns, labels, predictions = _labelled(rng)
    at_push = per_slice(columns, labels, predictions, slicings=SLICINGS, threshold=0.5)
    clean = _judge(columns, labels, predictions, at_push)
    assert clean.breaches == []
    columns, labels, predictions = _labelled(rng, flip_cash=True)
    drifted = _judge(columns, labels, predictions, at_push)
    where = {b.where for b in drifted.breaches}
    assert {b.kind for b in drifted.breaches} == {"concept_drift"}  # inputs and predictions did not move
    assert "payment=Cash" in where and "payment=Card" not in where
    cash = next(b for b in drifted.breaches if b.where == "payment=Cash" and b.measure == "binary_accuracy")
    assert cash.baseline > 0.9 and cash.value < 0.1
    assert "slice payment=Cash: binary_accuracy" in cash.message
    row = next(r for r in drifted.slices if r["slice"] == "payment=Cash")
    assert row["metrics"]["binary_accuracy"]["at_push"] == pytest.approx(cash.baseline)


def test_a_slice_under_min_examples_is_reported_but_not_judged():
    rng = np.random.default_rng(1)
    columns, labels, predictions = _labelled(rng)
    at_push = per_slice(columns, labels, predictions, slicings=SLICINGS, threshold=0.5)
    columns, labels, predictions = _labelled(rng, n=120, flip_cash=True)
    found = _judge(columns, labels, predictions, at_push, min_examples=500)
    assert found.breaches == []
    assert found.slices and not any(r["judged"] for r in found.slices)


def test_prediction_drift_breaches_on_a_shift_and_not_on_a_resample():
    rng = np.random.default_rng(2)
    reference = rng.beta(2, 5, 3000)
    same = prediction_measures(reference, rng.beta(2, 5, 1000))
    assert same["psi"] < 0.1 and same["ks"] < 0.1
    columns, labels, predictions = _labelled(rng)
    at_push = per_slice(columns, labels, predictions, slicings=SLICINGS, threshold=0.5)
    shifted = _judge(columns, labels, predictions, at_push, reference=np.clip(predictions - 0.3, 0, 1))
    assert {(b.kind, b.measure) for b in shifted.breaches} >= {("prediction_drift", "psi"), ("prediction_drift", "ks")}
    assert shifted.prediction_drift["mean_served"] > shifted.prediction_drift["mean_reference"]


def test_serving_inputs_that_moved_breach_as_data_drift():
    rng = np.random.default_rng(3)
    columns, labels, predictions = _labelled(rng)
    found = judge(
        ModelCheck("stable", "1", 1, len(labels), 0),
        training=columns,
        training_categorical={"payment"},
        serving={**columns, "hour": columns["hour"] + 6},
        serving_categorical={"payment"},
        predictions=predictions,
        reference_predictions=None,
        labelled={},
        labels=None,
        labelled_predictions=None,
        at_push={},
        slicings=SLICINGS,
        decision_threshold=0.5,
        limits=Limits({"psi": 0.2, "ks": 0.1}, {}, {}, 50, 0.05),
    )
    assert {(b.kind, b.where) for b in found.breaches} == {("data_drift", "hour")}
    assert any("no labels" in note for note in found.notes) and any("no reference" in n for n in found.notes)


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_logs_are_read_in_each_format_and_labels_join_on_the_key(tmp_path, suffix):
    table = pa.table({"request_id": ["a", "b", "c"], "fare": [1.0, 2.0, 3.0], "prediction": [0.1, 0.9, 0.4]})
    path = tmp_path / f"logs.{suffix}"
    if suffix == "csv":
        path.write_text("request_id,fare,prediction\na,1.0,0.1\nb,2.0,0.9\nc,3.0,0.4\n")
    elif suffix == "parquet":
        pq.write_table(table, path)
    else:
        path.write_text("".join(json.dumps(row) + "\n" for row in table.to_pylist()))
    found = logs.read(str(path))
    assert found.column("fare").to_pylist() == [1.0, 2.0, 3.0]
    labels = pa.table({"request_id": ["c", "a"], "big_tipper": [1, 0]})
    joined = logs.with_labels(found, labels, key="request_id", label="big_tipper", source="labels.csv")
    assert joined.column("big_tipper").to_pylist() == [0, None, 1]  # the logs' order; b's label has not arrived
    assert logs.labelled(joined, "big_tipper").column("request_id").to_pylist() == ["a", "c"]


def test_unreadable_logs_name_the_file_and_the_column(tmp_path):
    with pytest.raises(logs.LogError, match=r"logs\.txt: unknown log format"):
        logs.read(str(tmp_path / "logs.txt"))
    with pytest.raises(logs.LogError, match=r"missing\.csv: no such file"):
        logs.read(str(tmp_path / "missing.csv"))
    table = pa.table({"request_id": ["a"], "fare": [1.0]})
    with pytest.raises(logs.LogError, match=r"the logs: no column 'prediction' \(found: request_id, fare\)"):
        logs.require(table, ["prediction"], source="the logs")
    with pytest.raises(logs.LogError, match=r"labels\.csv: no column 'big_tipper'"):
        logs.with_labels(
            table, pa.table({"request_id": ["a"]}), key="request_id", label="big_tipper", source="labels.csv"
        )


MONITORING = """\
monitoring:
  min_examples: 30
  thresholds:
    drift: {psi: 0.3}
    metrics: {binary_accuracy: 0.05, auc: 0.02}
  on_breach: [alert, abort_canary, retrain]
"""


def test_the_monitoring_section_loads(tmp_path):
    config = load_config(write_config(tmp_path, MINIMAL + MONITORING))
    assert config.monitoring.on_breach == ["alert", "abort_canary", "retrain"]
    assert config.monitoring.thresholds.metrics == {"binary_accuracy": 0.05, "auc": 0.02}
    assert config.monitoring.prediction == "prediction" and config.monitoring.min_examples == 30


@pytest.mark.parametrize(
    "old, new, key, message",
    [
        ("on_breach: [alert,", "on_breach: [page,", "monitoring.on_breach.0", "'alert', 'abort_canary' or 'retrain'"),
        ("binary_accuracy: 0.05", "f1: 0.05", "monitoring.thresholds.metrics", "unknown metric 'f1'"),
        ("drift: {psi: 0.3}", "drift: {psi: -1}", "monitoring.thresholds.drift", "psi: a threshold must be >= 0"),
        ("min_examples: 30", "min_exampels: 30", "monitoring.min_exampels", "unknown key"),
    ],
)
def test_a_wrong_monitoring_section_is_refused_with_its_key(tmp_path, old, new, key, message):
    assert old in MONITORING
    found = problems(write_config(tmp_path, MINIMAL + MONITORING.replace(old, new)))
    assert [(k, m) for k, _, m in found if k == key and message in m], found


def test_a_monitoring_run_is_recorded_against_its_model_and_shown_in_its_lineage(tmp_path):
    from tests.governed_store import build
    from tfxgate.lineage.evidence import collect
    from tfxgate.mlmd import monitoring as records
    from tfxgate.reporting import lineage_tree

    governed = build(tmp_path)
    breach = {"kind": "concept_drift", "where": "payment_type=Cash", "message": "slice payment_type=Cash: auc fell"}
    execution_id = records.record(
        governed.store,
        pipeline="taxi",
        destination="production",
        version="7",
        role="candidate",
        logs="week.csv",
        status="breach",
        breaches=[breach],
        measures={"rows": 10},
        result_uri=str(tmp_path / "result"),
        model_id=governed.model_id,
    )
    records.set_actions(governed.store, execution_id, [{"action": "abort_canary", "done": True, "detail": "why"}])
    [found] = records.records(governed.store, pipeline="taxi")
    assert (found.model_id, found.role, found.status, found.result_uri) == (
        governed.model_id,
        "candidate",
        "breach",
        str(tmp_path / "result"),
    )
    assert records.records(governed.store, model_id=governed.second_model_id) == []
    evidence = collect(governed.store, model_artifact_id=governed.model_id)
    assert [m.id for m in evidence.monitoring] == [execution_id]
    drawn = lineage_tree.render(lineage_tree.tree(evidence))
    assert "production candidate version 7: BREACH (logs week.csv)" in drawn
    assert "breach: slice payment_type=Cash: auc fell" in drawn and "abort_canary: done: why" in drawn
    assert json.loads(evidence.to_json())["monitoring"][0]["breaches"] == [breach]


def test_the_training_baseline_is_summarised_batch_by_batch_and_compares_as_the_whole_table(tmp_path, monkeypatch):
    """`tfxgate monitor` reads the served model's training split one record batch at a time (never whole),
    leaves the label out, and its drift numbers are those of the whole table's comparison."""
    from tests.governed_store import build
    from tests.test_drift_pushed import write_examples
    from tfxgate.artifacts import examples as example_files
    from tfxgate.drift import columns, tables
    from tfxgate.drift.check import compare_tables
    from tfxgate.monitoring import serving

    governed = build(tmp_path)
    [examples] = governed.store.get_artifacts_by_id([governed.examples_id])
    rng = np.random.default_rng(0)
    rows = 3000
    training = {
        "fare": rng.gamma(2.0, 5.0, rows),
        "company": np.array([f"c{i % 7}" for i in range(rows)], dtype=object),
        "tips": rng.random(rows),
    }
    write_examples(training, Path(examples.uri))
    # What the split holds (tf.Example floats are float32), read whole: the reference the summary must match.
    as_whole, _ = tables.from_arrow(example_files.read_split(examples.uri, "train"))
    del as_whole["tips"]
    batches = []
    original = example_files.split_batches

    def small_batches(uri, split):
        for batch in original(uri, split, batch_rows=500):
            batches.append(batch.num_rows)
            yield batch

    def whole(*_args, **_kwargs):
        raise AssertionError("the training split was read whole")

    monkeypatch.setattr(example_files, "split_batches", small_batches)
    monkeypatch.setattr(example_files, "read_split", whole)
    base = serving.baseline(governed.store, governed.model_id, label="tips")

    assert batches == [500] * 6
    assert isinstance(base.training, columns.Summary)
    assert set(base.training) == {"fare", "company"} and base.categorical == {"company"}
    week = {"fare": rng.gamma(2.0, 6.0, 800), "company": np.array([f"c{i % 5}" for i in range(800)], dtype=object)}
    kwargs = {"categorical": {"company"}, "kind": "serving_drift"}
    summarised = compare_tables(base.training, week, baseline_categorical=base.categorical, **kwargs).to_dict()
    assert summarised == compare_tables(as_whole, week, baseline_categorical={"company"}, **kwargs).to_dict()
    assert {f["feature"] for f in summarised["features"]} == {"fare", "company"}
