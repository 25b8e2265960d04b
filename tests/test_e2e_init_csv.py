"""End to end: `tfxgate init --csv` on a CSV with a text multi-class label, then the printed command, as printed.

One run (module-scoped) of a seeded 300-row CSV (tests/tabular_csv.py: 3
penguin species as texts, an `island` column to slice on, `NA` cells): the run
must succeed, push to staging and leave production pending approval; the
evaluation must be multi-class (accuracy, per-class precision/recall, F1,
one-vs-rest AUC, log loss), with the accuracy recomputed here from the pushed
model's predictions on the eval split against the text labels; the schema the
run proposes must adopt, as the config's comment says, into a config that
checks. Binary and regression CSVs: tests/test_init_csv.py (init + check) and
tests/test_tabular_trainer.py (the trainer on them).
"""

from __future__ import annotations

import glob
import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests import tabular_csv
from tests.test_e2e_taxi import pushed_versions

pytestmark = pytest.mark.e2e

RUN_IT = "run it with: "


def _shell(command: str, *, cwd: Path) -> subprocess.CompletedProcess:
    """`command` as a user types it, in `cwd`, with this venv's `tfxgate` first on PATH."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@dataclass
class Project:
    work: Path
    config: Path
    init: subprocess.CompletedProcess
    run: subprocess.CompletedProcess

    @property
    def root(self) -> Path:
        return self.work / "project" / "runs" / "penguins"


@pytest.fixture(scope="module")
def penguins(tmp_path_factory) -> Project:
    work = tmp_path_factory.mktemp("init-csv")
    tabular_csv.penguins(work / "penguins.csv")
    init = _shell("tfxgate init project --csv penguins.csv --label species", cwd=work)
    assert init.returncode == 0, init.stderr
    printed = init.stdout.splitlines()[-1]
    assert printed == f"{RUN_IT}tfxgate run project/configs/penguins.yaml"
    run = _shell(printed[len(RUN_IT) :], cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr
    return Project(work, work / "project/configs/penguins.yaml", init, run)


def test_the_printed_command_runs_pushes_to_staging_and_leaves_production_pending(penguins):
    out = penguins.run.stdout
    assert "of pipeline 'penguins': SUCCEEDED" in out
    assert "staging (auto): pushed version 1" in out
    assert "production (manual): PENDING APPROVAL" in out
    assert pushed_versions(penguins.work / "project" / "serving" / "penguins") == ["1"]
    [summary] = [json.loads(p.read_text()) for p in (penguins.root / "summaries").glob("*.json")]
    assert summary["status"] == "SUCCEEDED"
    assert "label 'species': multiclass (3 classes), classes ['adelie', 'chinstrap', 'gentoo']" in penguins.init.stdout


def test_text_labels_are_evaluated_as_classes_on_true_accuracy(penguins):
    import tensorflow as tf

    [path] = glob.glob(str(penguins.root / "artifacts/SliceEval/evaluation/*/report.json"))
    report = json.loads(Path(path).read_text())
    assert report["blessed"] is True, report["headline"]
    expected = {
        "accuracy",
        "macro_f1",
        "micro_f1",
        "auc_one_vs_rest",
        "log_loss",
        "precision_class_2",
        "recall_class_0",
    }
    assert expected <= set(report["metrics"]) and "binary_accuracy" not in report["metrics"]
    slices = {row["slice"]: {m: v["value"] for m, v in row["metrics"].items()} for row in report["slices"]}
    assert {"Overall", "island=biscoe", "island=dream", "island=torgersen"} <= set(slices)

    [split] = glob.glob(str(penguins.root / "artifacts/Ingest/examples/*/Split-eval"))
    records = [r.numpy() for r in tf.data.TFRecordDataset(sorted(glob.glob(f"{split}/*.gz")), compression_type="GZIP")]
    examples = [tf.train.Example.FromString(r).features.feature for r in records]
    labels = np.array([tabular_csv.SPECIES.index(e["species"].bytes_list.value[0].decode()) for e in examples])
    islands = np.array([e["island"].bytes_list.value[0].decode() for e in examples])
    model = tf.saved_model.load(str(penguins.work / "project/serving/penguins/staging/1"))
    probabilities = model.signatures["serving_default"](examples=tf.constant(records))["outputs"].numpy()
    assert probabilities.shape == (len(records), 3)
    predicted = probabilities.argmax(axis=1)
    assert slices["Overall"]["example_count"] == len(records)
    assert slices["Overall"]["accuracy"] == pytest.approx(np.mean(predicted == labels), abs=1e-6)
    for island in ("biscoe", "dream", "torgersen"):
        rows = islands == island
        assert slices[f"island={island}"]["accuracy"] == pytest.approx(
            np.mean(predicted[rows] == labels[rows]), abs=1e-6
        )
    assert slices["Overall"]["accuracy"] >= 0.38  # the config's gate: the most common species' share


def test_the_proposed_schema_adopts_as_the_config_says_and_checks(penguins):
    [proposal] = [
        line.split("tfxgate schema adopt ", 1)[1] for line in penguins.run.stdout.splitlines() if "adopt it:" in line
    ]
    adopt = _shell(
        f"tfxgate schema adopt {shlex.quote(proposal)} --to schemas/penguins/schema.pbtxt",
        cwd=penguins.work / "project",
    )
    assert adopt.returncode == 0, adopt.stderr
    text = penguins.config.read_text()
    assert "# schema: ../schemas/penguins/schema.pbtxt\n" in text
    penguins.config.write_text(text.replace("# schema: ../schemas/", "schema: ../schemas/"))
    check = _shell(f"tfxgate check {penguins.config}", cwd=penguins.work)
    assert check.returncode == 0, check.stdout + check.stderr
    schema = (penguins.work / "project/schemas/penguins/schema.pbtxt").read_text()
    assert 'name: "species"' in schema and 'value: "gentoo"' in schema  # the text label's domain
