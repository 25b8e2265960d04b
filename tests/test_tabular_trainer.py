"""The generic tabular trainer (trainers/tabular/trainer.py) with the hyperparameters `tfxgate init --csv` writes.

`run_fn` is called with TFX's own `FnArgs` on GZIP TFRecords of tf.Examples
laid out as Ingest writes them (a missing cell is a feature with no value),
for a binary text label and a regression label; the saved model must honour the
trainer contract: `serving_default` on examples without the label, and
`transform_features` giving the class id (-1 for a missing or unknown label)
or the number. The text multi-class label runs through the whole pipeline in
tests/test_e2e_init_csv.py.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests import tabular_csv
from tests.conftest import REPO
from tfxgate.pipelines import csv_starter
from tfxgate.pipelines.config.root import load_config


def _trainer():
    spec = importlib.util.spec_from_file_location("tabular_trainer", REPO / "trainers/tabular/trainer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _example(row: dict, kinds: dict[str, str]):
    import tensorflow as tf

    features = {}
    for name, text in row.items():
        feature = tf.train.Feature()
        if text not in ("", "NA"):  # a missing cell: the feature is there, without a value
            if kinds[name] == "FLOAT":
                feature.float_list.value.append(float(text))
            elif kinds[name] == "INT":
                feature.int64_list.value.append(int(text))
            else:
                feature.bytes_list.value.append(text.encode())
        else:
            getattr(feature, {"FLOAT": "float_list", "INT": "int64_list"}.get(kinds[name], "bytes_list")).SetInParent()
        features[name] = feature
    return tf.train.Example(features=tf.train.Features(feature=features))


def _train(tmp_path: Path, csv_path: Path, label: str, kinds: dict[str, str]):
    """Writes the project for the CSV, the examples and a schema; runs the trainer; returns (model, rows)."""
    import tensorflow as tf
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx.components.trainer.fn_args_utils import FnArgs

    project = csv_starter.write_csv_starter(tmp_path / "project", csv_path, label=label)
    config = load_config(project.config)
    with csv_path.open() as handle:
        rows = list(csv.DictReader(handle))
    files = {}
    for split, part in (("train", rows[:200]), ("eval", rows[200:])):
        files[split] = str(tmp_path / f"{split}.gz")
        with tf.io.TFRecordWriter(files[split], options="GZIP") as writer:
            for row in part:
                writer.write(_example(row, kinds).SerializeToString())
    schema = schema_pb2.Schema()
    for name, kind in kinds.items():
        schema.feature.add(name=name, type=getattr(schema_pb2, kind))
    (tmp_path / "schema.pbtxt").write_text(text_format.MessageToString(schema))
    _trainer().run_fn(
        FnArgs(
            train_files=[files["train"]],
            eval_files=[files["eval"]],
            schema_path=str(tmp_path / "schema.pbtxt"),
            train_steps=config.stages.trainer.train_steps,
            eval_steps=config.stages.trainer.eval_steps,
            custom_config=dict(config.stages.trainer.hyperparameters),
            serving_model_dir=str(tmp_path / "model"),
        )
    )
    return tf.saved_model.load(str(tmp_path / "model")), rows[200:]


def _call(model, signature: str, rows: list[dict], kinds: dict[str, str], *, drop: str = ""):
    import tensorflow as tf

    examples = [_example({k: v for k, v in row.items() if k != drop}, kinds).SerializeToString() for row in rows]
    return {k: v.numpy() for k, v in model.signatures[signature](examples=tf.constant(examples)).items()}


def test_binary_text_label(tmp_path):
    kinds = {"plan": "BYTES", "tenure_months": "INT", "support_calls": "INT", "churned": "BYTES"}
    model, rows = _train(tmp_path, tabular_csv.churn(tmp_path / "churn.csv"), "churned", kinds)
    probability = _call(model, "serving_default", rows, kinds, drop="churned")["outputs"]  # serving: no label
    assert probability.shape == (len(rows), 1)
    truth = np.array([row["churned"] == "yes" for row in rows])
    assert np.mean((probability[:, 0] > 0.5) == truth) > 0.75

    odd = [
        dict(rows[0], churned=label, plan=plan)
        for label, plan in [("yes", "x"), ("no", ""), ("", "basic"), ("maybe", "pro")]
    ]
    assert _call(model, "transform_features", odd, kinds)["churned"].tolist() == [1, 0, -1, -1]
    assert np.isfinite(_call(model, "serving_default", odd, kinds)["outputs"]).all()  # unseen or missing plan


def test_regression_label_is_predicted_in_its_units(tmp_path):
    kinds = {"area_m2": "FLOAT", "rooms": "INT", "city": "BYTES", "price": "FLOAT"}
    model, rows = _train(tmp_path, tabular_csv.prices(tmp_path / "prices.csv"), "price", kinds)
    predicted = _call(model, "serving_default", rows, kinds, drop="price")["outputs"]
    price = np.array([float(row["price"]) for row in rows])
    assert predicted.shape == (len(rows), 1)
    assert np.corrcoef(predicted[:, 0], price)[0, 1] > 0.9
    assert np.mean(predicted) == pytest.approx(np.mean(price), rel=0.1)
    labels = _call(model, "transform_features", rows[:3], kinds)["price"]
    assert labels.tolist() == pytest.approx(price[:3].tolist(), rel=1e-6)
