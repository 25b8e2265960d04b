"""End to end: the multi-class (wine) and regression (diabetes) example configs on scikit-learn's bundled data.

Each test writes the data as 2 CSV spans with `NA` in some feature cells
(scripts/sklearn_example_data.py), runs `tfxgate run` on the example config,
then recomputes every gated metric with numpy from the pushed SavedModel's
predictions on the eval rows and checks the report, the blessing, the push and
`tfxgate lineage` against them. A tightened copy of the gates must refuse the
model, naming the slice and the metric.
"""

from __future__ import annotations

import glob
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, run_cli
from tests.test_e2e_taxi import pushed_versions

pytestmark = pytest.mark.e2e


def _data_script():
    spec = importlib.util.spec_from_file_location("sklearn_example_data", REPO / "scripts/sklearn_example_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Run:
    """One `tfxgate run` of an example config in its own root, and what it left there."""

    def __init__(self, name: str, root: Path):
        paths = _data_script().write(name, root / "data", spans=2)
        assert all("NA" in p.read_text() for p in paths), "the test data holds missing-value tokens"
        self.config = str(REPO / "configs" / f"{name}.yaml")
        self.sets = [
            f"data.path={root / 'data' / name / 'span-{SPAN}.csv'}",
            f"pipeline.root={root}",
            f"stages.push.root={root / 'serving'}",
        ]
        self.root = root
        self.result = self.cli("run")
        assert self.result.returncode == 0, self.result.stdout + self.result.stderr

    def cli(self, command: str, *args: str):
        sets = [item for s in self.sets for item in ("--set", s)]
        return run_cli(command, self.config, *args, *sets, root=self.root)

    def report(self) -> dict:
        [path] = glob.glob(str(self.root / "artifacts/SliceEval/evaluation/*/report.json"))
        return json.loads(Path(path).read_text())

    def eval_rows(self, label: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The eval split's raw features (NaN where missing) and the pushed model's outputs on them."""
        import tensorflow as tf

        [split] = glob.glob(str(self.root / "artifacts/Ingest/examples/*/Split-eval"))
        files = sorted(glob.glob(f"{split}/*.gz"))
        serialized = [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
        rows = []
        for record in serialized:
            row = {}
            for name, feature in tf.train.Example.FromString(record).features.feature.items():
                values = list(feature.float_list.value) or list(feature.int64_list.value)
                row[name] = values[0] if values else np.nan
            rows.append(row)
        columns = {name: [row.get(name, np.nan) for row in rows] for name in {n for row in rows for n in row}}
        [version] = pushed_versions(self.root / "serving")
        model = tf.saved_model.load(str(self.root / "serving" / "staging" / version))
        outputs = model.signatures["serving_default"](examples=tf.constant(serialized))["outputs"].numpy()
        assert not np.isnan(np.array(columns[label], dtype=float)).any(), "every eval row has its label"
        return {k: np.array(v, dtype=float) for k, v in columns.items()}, outputs


def _slices(report: dict) -> dict[str, dict[str, float]]:
    return {row["slice"]: {m: v["value"] for m, v in row["metrics"].items()} for row in report["slices"]}


def _judge_tightened(run: Run, overrides: list[str], report: dict):
    """The report's metrics judged by the config with `overrides`: tfxgate's gates on multi-class/regression names."""
    from tfxgate.components.slice_eval.gates import SliceMetrics, judge
    from tfxgate.pipelines.config.root import load_config

    config = load_config(run.config, overrides=run.sets + overrides)
    slices = [
        SliceMetrics(tuple(row["slicing"]), row["slice"], {m: v["value"] for m, v in row["metrics"].items()})
        for row in report["slices"]
    ]
    return judge(slices, config.stages.evaluation)


def test_multiclass_wine_is_judged_on_true_accuracy_and_pushed(tmp_path):
    run = Run("wine", tmp_path)
    features, probabilities = run.eval_rows("cultivar")
    labels = features["cultivar"].astype(int)
    predicted = probabilities.argmax(axis=1)
    assert probabilities.shape == (len(labels), 3)
    report = run.report()
    slices = _slices(report)
    edges = [11, 12.5, 13.5, 15]
    names = {"Overall": np.ones(len(labels), bool)}
    for low, high in zip(edges, edges[1:], strict=False):
        names[f"alcohol_bucket=[{low:g},{high:g})"] = (features["alcohol"] >= low) & (features["alcohol"] < high)
    for name, rows in names.items():
        if not rows.any():
            continue
        got, y, p, probs = slices[name], labels[rows], predicted[rows], probabilities[rows]
        assert got["example_count"] == rows.sum(), name
        assert got["accuracy"] == pytest.approx(np.mean(y == p), abs=1e-6), name
        log_loss = -np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1)))
        assert got["log_loss"] == pytest.approx(log_loss, abs=1e-3), name
        f1 = []
        for k in range(3):
            if (p == k).any():
                assert got[f"precision_class_{k}"] == pytest.approx(np.mean(y[p == k] == k), abs=1e-6)
            if (y == k).any():
                assert got[f"recall_class_{k}"] == pytest.approx(np.mean(p[y == k] == k), abs=1e-6)
            if (y == k).any() or (p == k).any():
                f1.append(2 * np.sum((y == k) & (p == k)) / (np.sum(y == k) + np.sum(p == k)))
        assert got["macro_f1"] == pytest.approx(np.mean(f1), abs=1e-6), name
    overall = slices["Overall"]
    # configs/wine.yaml: overall accuracy >= 0.8 and macro_f1 >= 0.75; per slice accuracy >= 0.6, log_loss <= 1.5.
    judged = [s for n, s in slices.items() if n == "Overall" or s["example_count"] >= 10]
    expected = overall["accuracy"] >= 0.8 and overall["macro_f1"] >= 0.75
    expected &= all(s["accuracy"] >= 0.6 and s["log_loss"] <= 1.5 for s in judged)
    assert report["blessed"] is True and expected, report["headline"]
    assert pushed_versions(tmp_path / "serving") == ["1"]
    assert "accuracy" in report["metrics"] and "binary_accuracy" not in report["metrics"]

    tightened = ["stages.evaluation.thresholds.accuracy.min=1.0", "stages.evaluation.overall.accuracy.min=1.0"]
    refused = _judge_tightened(run, tightened, report)
    imperfect = sorted(
        n for n, s in slices.items() if s["accuracy"] < 1.0 and (n == "Overall" or s["example_count"] >= 10)
    )
    assert refused.blessed is (not imperfect)
    assert sorted({f.slice for f in refused.failures if f.metric == "accuracy"}) == imperfect

    lineage = run.cli("lineage", "1", "--root", str(tmp_path))
    assert lineage.returncode == 0, lineage.stderr
    assert f"Overall: ok (n={int(overall['example_count'])}) accuracy" in lineage.stdout
    assert "macro_f1" in lineage.stdout and "binary_accuracy" not in lineage.stdout
    [page] = glob.glob(str(tmp_path / "artifacts/SliceEval/evaluation/*/report.html"))
    assert "auc_one_vs_rest" in Path(page).read_text()


def test_regression_diabetes_is_judged_on_errors_and_r2_and_pushed(tmp_path):
    run = Run("diabetes", tmp_path)
    features, outputs = run.eval_rows("progression")
    labels, predictions = features["progression"], outputs.reshape(-1)
    report = run.report()
    slices = _slices(report)
    names = {"Overall": np.ones(len(labels), bool)}
    names.update(
        {f"sex={int(v)}": features["sex"] == v for v in np.unique(features["sex"][~np.isnan(features["sex"])])}
    )
    for name, rows in names.items():
        got, y, p = slices[name], labels[rows], predictions[rows]
        mse = np.mean((y - p) ** 2)
        assert got["example_count"] == rows.sum(), name
        assert got["mean_squared_error"] == pytest.approx(mse, rel=1e-4), name
        assert got["root_mean_squared_error"] == pytest.approx(np.sqrt(mse), rel=1e-4), name
        assert got["mean_absolute_error"] == pytest.approx(np.mean(np.abs(y - p)), rel=1e-4), name
        assert got["r2"] == pytest.approx(1 - mse / np.var(y), abs=1e-3), name
        assert got["mean_prediction"] == pytest.approx(np.mean(p), rel=1e-4), name
        assert got["mean_label"] == pytest.approx(np.mean(y), rel=1e-4), name
    # configs/diabetes.yaml: overall r2 >= 0.2; per slice (n >= 30) MAE <= 70; MAE gap across sex <= 25.
    judged = {n: s for n, s in slices.items() if n == "Overall" or s["example_count"] >= 30}
    by_sex = [s["mean_absolute_error"] for n, s in judged.items() if n.startswith("sex=")]
    expected = slices["Overall"]["r2"] >= 0.2 and all(s["mean_absolute_error"] <= 70 for s in judged.values())
    expected &= len(by_sex) < 2 or max(by_sex) - min(by_sex) <= 25
    assert report["blessed"] is expected, report["headline"]
    assert pushed_versions(tmp_path / "serving") == (["1"] if expected else [])
    assert expected, "the example config's gates are meant to pass this trainer"

    worst = max((n for n in judged if n.startswith("sex=")), key=lambda n: judged[n]["mean_absolute_error"])
    limit = judged[worst]["mean_absolute_error"] - 0.01
    refused = _judge_tightened(run, [f"stages.evaluation.thresholds.mean_absolute_error.max={limit}"], report)
    assert not refused.blessed
    assert worst in {f.slice for f in refused.failures if f.metric == "mean_absolute_error" and f.gate == "max"}

    lineage = run.cli("lineage", "1", "--root", str(tmp_path))
    assert lineage.returncode == 0, lineage.stderr
    assert "r2" in lineage.stdout and "mean_absolute_error" in lineage.stdout
