"""End to end: configs/taxi_transform.yaml (stages.transform) runs, is blessed, pushes, and serves raw tf.Examples.

One session run (tests/conftest.py `taxi_transform_run`, the 3,000-row sample,
60 training steps). The pushed SavedModel applies the transform graph itself:
fed the raw eval examples (without `tips`, as serving sends them) it gives the
Keras model's predictions on the examples Transform wrote for training time,
and the mean prediction and accuracy SliceEval measured. `tfxgate lineage`
shows the transform graph behind the pushed version.
"""

from __future__ import annotations

import glob
import json
import os

import numpy as np
import pytest

from tests.conftest import TAXI_TRANSFORM_CONFIG, run_cli
from tests.test_e2e_taxi import pushed_versions

pytestmark = pytest.mark.e2e


def _records(pattern: str) -> list[bytes]:
    import tensorflow as tf

    files = sorted(glob.glob(pattern))
    assert files, pattern
    return [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]


@pytest.fixture(scope="module")
def evidence(taxi_transform_run):
    result = run_cli(
        "lineage",
        str(TAXI_TRANSFORM_CONFIG),
        "1",
        "--json",
        "--root",
        str(taxi_transform_run.root),
        root=taxi_transform_run.root,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_run_transforms_trains_is_blessed_and_pushes(taxi_transform_run, evidence):
    out = taxi_transform_run.stdout
    assert "<- Transform: complete (" in out
    assert out.index("<- Validate:") < out.index("<- Transform:") < out.index("<- Trainer:")
    assert pushed_versions(taxi_transform_run.root / "serving") == ["1"]
    assert evidence["evaluation"]["blessed"] is True


def test_pushed_model_answers_raw_examples_like_training_time_evaluation(taxi_transform_run, evidence):
    import tensorflow as tf

    examples = evidence["examples"]["uri"]
    raw = _records(os.path.join(examples, "Split-eval", "*"))
    served = tf.saved_model.load(str(taxi_transform_run.root / "serving" / "staging" / "1"))
    serving_requests = []
    for record in raw:  # serving carries no `tips`: the label's source is training-only
        example = tf.train.Example.FromString(record)
        del example.features.feature["tips"]
        serving_requests.append(example.SerializeToString())
    predicted = served.signatures["serving_default"](examples=tf.constant(serving_requests))["outputs"].numpy()[:, 0]
    labels = served.signatures["transform_features"](examples=tf.constant(raw))["big_tipper"].numpy().reshape(-1)

    # Training time: the Keras model on the features Transform wrote (its eval split, same order).
    transform = evidence["transform"]
    transformed_examples = transform["graph_uri"].replace("transform_graph", "transformed_examples")
    import tensorflow_transform as tft

    spec = tft.TFTransformOutput(transform["graph_uri"]).transformed_feature_spec()
    features = tf.io.parse_example(_records(os.path.join(transformed_examples, "Split-eval", "*")), spec)
    keras_inputs = {k: v for k, v in features.items() if k.endswith("_xf")}
    at_training = served(keras_inputs).numpy()[:, 0]  # the SavedModel's call is the Keras model's
    np.testing.assert_allclose(predicted, at_training, rtol=1e-5, atol=1e-6)

    overall = next(s for s in evidence["evaluation"]["slices"] if s["slice"] == "Overall")["metrics"]
    assert len(predicted) == overall["example_count"]["value"]
    assert predicted.mean() == pytest.approx(overall["mean_prediction"]["value"], abs=1e-5)
    accuracy = np.mean((predicted > 0.5).astype(int) == labels)
    assert accuracy == pytest.approx(overall["binary_accuracy"]["value"], abs=1e-6)


def test_lineage_shows_the_transform_graph_and_its_statistics(taxi_transform_run, evidence):
    transform = evidence["transform"]
    assert transform["module_file"].endswith("taxi_preprocessing/preprocessing.py")
    assert {"fare_xf", "company_xf", "pickup_latitude_xf", "big_tipper"} <= set(transform["transformed_features"])
    assert {"company_xf", "payment_type_xf", "pickup_latitude_xf"} <= set(transform["categorical"])
    assert transform["pre_transform"]["examples"] == evidence["examples"]["rows_per_split"]["train"]
    post = {f["feature"]: f for f in transform["post_transform"]["features"]}
    assert post["fare_xf"]["mean"] == pytest.approx(0.0, abs=0.05)  # z-scored on the training split
    # The data evidence is about the raw examples Transform read, not the transformed ones.
    assert evidence["examples"]["rows_read"] > 2900 and evidence["statistics"]["splits"]
    tree = run_cli(
        "lineage",
        str(TAXI_TRANSFORM_CONFIG),
        "1",
        "--root",
        str(taxi_transform_run.root),
        root=taxi_transform_run.root,
    )
    assert tree.returncode == 0, tree.stderr
    assert f"transform graph {transform['graph_id']}: " in tree.stdout
    assert "pre-transform statistics" in tree.stdout and "post-transform statistics" in tree.stdout


def test_the_notebook_run_has_the_transform_stage(tmp_path):
    from tfxgate.pipelines.interactive import interactive

    run = interactive(TAXI_TRANSFORM_CONFIG, root=tmp_path)
    ids = list(run.nodes)
    assert ids.index("Validate") < ids.index("Transform") < ids.index("Trainer")
    assert run.node_with_output("transform_graph") == "Transform"
    assert run.node_with_output("post_transform_stats") == "Transform"


def test_report_and_model_card_show_the_transform_statistics(taxi_transform_run, tmp_path):
    card = (taxi_transform_run.root / "serving" / "staging" / "1" / "model_card.md").read_text()
    assert "## Feature transform" in card and "taxi_preprocessing/preprocessing.py" in card
    assert "Pre-transform statistics: " in card and "| fare_xf | numeric |" in card
    page = tmp_path / "report.html"
    result = run_cli(
        "report",
        str(TAXI_TRANSFORM_CONFIG),
        "--root",
        str(taxi_transform_run.root),
        "--output",
        str(page),
        root=taxi_transform_run.root,
    )
    assert result.returncode == 0, result.stderr
    html = page.read_text()
    assert "<h2>Transform</h2>" in html
    assert "pre-transform statistics" in html and "company_xf" in html
