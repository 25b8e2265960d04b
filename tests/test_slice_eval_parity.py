"""Parity: SliceEval's fast engine computes what TFMA computes, on every metric x slice.

Seeded cases (no model: TFMA reads the predictions from the examples, the fast
engine's numpy core gets the same arrays) cover every label kind the project
supports — binary with every binary metric, at a decision threshold of 0.3,
predictions on bucket edges and a slice with one label class; multi-class (3
classes); regression — each with single-feature, bucketed and crossed slices.
All three TFMA evaluations run in one Beam pipeline. Both sides are written in
TFMA's format and read back by the one reader (`tfma_config.load_slices`).
The end-to-end parity on the taxi model (serving signature included) is in
tests/test_e2e_slice_eval_engines.py.

Tolerance: 1e-6 on every metric, AUC and PR-AUC included: the fast engine
reproduces TFMA's 10,000-bucket histogram exactly (components/slice_eval/fast_metrics.py),
so there is no bucketing error to allow for.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

TOLERANCE = 1e-6
ROWS = 600


def _examples(columns: dict[str, np.ndarray]) -> list[bytes]:
    import tensorflow as tf

    records = []
    for i in range(len(next(iter(columns.values())))):
        feature = {}
        for name, values in columns.items():
            value = values[i]
            if isinstance(value, bytes):
                feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
            elif np.ndim(value) == 1:
                feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=list(value)))
            elif np.issubdtype(type(value), np.integer):
                feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
            else:
                feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[float(value)]))
        records.append(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    return records


def _cases() -> dict:
    """kind -> (stage, LabelKind, columns); predictions as float32, as the examples hold them."""
    from tfxgate.components.slice_eval.label_kinds import BINARY, BINARY_ALWAYS, LabelKind
    from tfxgate.components.slice_eval.settings import EvaluationStage

    rng = np.random.default_rng(19)
    group = rng.choice([b"a", b"b", b"c"], size=ROWS)
    hour = rng.integers(0, 24, size=ROWS)
    slices = [[], ["group"], {"feature": "hour", "buckets": [0, 8, 16, 24]}, ["group", "hour_bucket"]]
    score = rng.beta(2, 3, size=ROWS).astype(np.float32)
    score[:6] = [0.0, 1.0, 0.3, 0.5, 1e-4, 0.9999]  # on thresholds and bucket edges
    label = (rng.random(ROWS) < score).astype(np.int64)
    label[group == b"c"] = 0  # one label class: AUC undefined there
    extras = [name for name in BINARY if name not in BINARY_ALWAYS]
    binary = EvaluationStage(slices=slices, metrics=extras, decision_threshold=0.3)
    classes = 3
    probabilities = rng.dirichlet([1.0] * classes, size=ROWS).astype(np.float32)
    draws = rng.random((ROWS, 1))
    truth = np.minimum((np.cumsum(probabilities, axis=1) < draws).sum(axis=1), classes - 1).astype(np.int64)
    target = (3.0 * score + rng.normal(0, 0.5, ROWS)).astype(np.float32)
    common = {"group": group, "hour": hour}
    return {
        "binary": (binary, LabelKind("binary"), {**common, "label": label, "prediction": score}),
        "multiclass": (
            EvaluationStage(slices=slices),
            LabelKind("multiclass", classes),
            {**common, "label": truth, "prediction": probabilities},
        ),
        "regression": (
            EvaluationStage(slices=slices),
            LabelKind("regression"),
            {**common, "label": target, "prediction": (target + rng.normal(0, 0.3, ROWS)).astype(np.float32)},
        ),
    }


def _model_free_config(stage, kind):
    """The EvalConfig SliceEval builds, with the predictions read from the examples instead of a model."""
    from tfxgate.components.slice_eval.tfma_config import eval_config

    config = eval_config(stage, label="label", with_baseline=False, kind=kind)
    spec = config.model_specs[0]
    spec.ClearField("preprocessing_function_names")
    spec.ClearField("signature_name")
    spec.prediction_key = "prediction"
    return config


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory) -> dict:
    """kind -> (slices per TFMA on Beam, slices per the fast engine), both read back from TFMA's format."""
    import apache_beam as beam
    import tensorflow as tf
    import tensorflow_model_analysis as tfma
    from tfx_bsl.coders import example_coder
    from tfx_bsl.public.tfxio import TFExampleRecord

    from tfxgate.components.slice_eval import fast_engine, tfma_output
    from tfxgate.components.slice_eval.settings import Buckets
    from tfxgate.components.slice_eval.slicing import add_bucket_columns
    from tfxgate.components.slice_eval.tfma_config import CANDIDATE, load_slices

    root = tmp_path_factory.mktemp("parity")
    cases = _cases()
    with beam.Pipeline() as pipeline:
        for kind, (stage, label_kind, columns) in cases.items():
            path = str(root / f"{kind}.tfrecord")
            with tf.io.TFRecordWriter(path) as writer:
                for record in _examples(columns):
                    writer.write(record)
            _ = (
                pipeline
                | f"Read{kind}" >> TFExampleRecord(path, raw_record_column_name=tfma.ARROW_INPUT_COLUMN).BeamSource()
                | f"Buckets{kind}" >> beam.Map(add_bucket_columns, [s for s in stage.slices if isinstance(s, Buckets)])
                | f"Evaluate{kind}"
                >> tfma.ExtractEvaluateAndWriteResults(
                    eval_config=_model_free_config(stage, label_kind), output_path=str(root / kind / "beam")
                )
            )
    out = {}
    for kind, (stage, label_kind, columns) in cases.items():
        data = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(_examples(columns))
        outputs = {CANDIDATE: (columns["label"], columns["prediction"])}
        metrics = fast_engine.metrics_by_slice(data, outputs, stage=stage, kind=label_kind)
        fast_dir = str(root / kind / "fast")
        config = _model_free_config(stage, label_kind)
        tfma_output.write_metrics(fast_dir, metrics, eval_config=config, data_location="seeded", model_locations={})
        out[kind] = tuple(
            {s.name: s.values for s in load_slices(str(root / kind / engine), with_baseline=False, kind=label_kind)}
            for engine in ("beam", "fast")
        )
    return out


def _differences(beam: dict, fast: dict) -> list[str]:
    problems = [] if set(beam) == set(fast) else [f"slices: beam {sorted(beam)} vs fast {sorted(fast)}"]
    for name in set(beam) & set(fast):
        if set(beam[name]) != set(fast[name]):
            problems.append(f"{name}: metrics {sorted(beam[name])} vs {sorted(fast[name])}")
        for metric in set(beam[name]) & set(fast[name]):
            expected, found = beam[name][metric], fast[name][metric]
            same = (math.isnan(expected) and math.isnan(found)) or abs(expected - found) <= TOLERANCE * max(
                1.0, abs(expected)
            )
            if not same:
                problems.append(f"{name}: {metric} TFMA {expected!r} fast {found!r}")
    return problems


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_fast_engine_equals_tfma_on_every_metric_and_slice(evaluated, kind):
    beam, fast = evaluated[kind]
    assert _differences(beam, fast) == []
    assert {"Overall", "group=a", "hour_bucket=[8,16)", "group=b, hour_bucket=[0,8)"} <= set(fast)
    assert sum(1 for values in fast.values() for v in values.values() if not math.isnan(v)) > 12 * len(fast) / 2


def test_the_seeded_cases_exercise_the_edges(evaluated):
    """The binary case has an undefined AUC (one label class) and the thresholded metrics see the 0.3 threshold."""
    beam, fast = evaluated["binary"]
    assert math.isnan(fast["group=c"]["auc"]) and fast["group=c"]["mean_label"] == 0.0
    assert 0.5 < fast["Overall"]["auc"] < 1.0 and len(fast["Overall"]) == 22
    assert fast["Overall"]["recall"] != pytest.approx(fast["Overall"]["tpr"])  # 0.3 vs TFMA's default 0.5
