"""`tfxgate init DIR --csv FILE --label COLUMN`: the project it writes for each label kind, and its refusals.

The binary and regression CSVs go through `tfxgate init` and `tfxgate check`
(the CLI's `main`, in-process: a subprocess costs seconds of imports each); the
refusals call the profile (the same code) and check the message names the file
and the column, and that nothing was written. The text
multi-class CSV runs end to end in tests/test_e2e_init_csv.py.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests import tabular_csv
from tests.conftest import REPO
from tfxgate.cli.main import main
from tfxgate.pipelines import csv_starter
from tfxgate.pipelines.config.root import load_config
from tfxgate.pipelines.csv_profile import ProfileError, profile
from tfxgate.pipelines.starter import StarterExists


@dataclass
class Cli:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys):
    """`tfxgate ARGS...` in-process: its exit code and output."""

    def call(*args: str) -> Cli:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return Cli(code, out.out, out.err)

    return call


def _init_and_check(cli, tmp_path: Path, csv: Path, label: str, *extra: str):
    project = tmp_path / "project"
    init = cli("init", str(project), "--csv", str(csv), "--label", label, *extra)
    assert init.returncode == 0, init.stderr
    name = csv_starter.pipeline_name(csv)
    config = project / "configs" / f"{name}.yaml"
    assert init.stdout.splitlines()[-1] == f"run it with: tfxgate run {config}"
    trainer = project / "trainers" / name / "trainer.py"
    assert sorted(p for p in project.rglob("*") if p.is_file() and p != csv) == sorted([config, trainer])
    assert trainer.read_bytes() == (REPO / "trainers" / "tabular" / "trainer.py").read_bytes()
    check = cli("check", str(config))
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"root {project / 'runs' / name}" in check.stdout  # runs stay inside the project
    return init, check, load_config(config)


def test_binary_text_label_gets_its_classes_a_slice_and_auc_gates(cli, tmp_path):
    csv = tabular_csv.churn(tmp_path / "data" / "Churn 2024.csv")
    init, check, config = _init_and_check(cli, tmp_path, csv, "churned")
    assert config.pipeline.name == "churn-2024"
    assert "label 'churned': binary (declared)" in check.stdout
    assert config.data.path == str(csv)  # outside the project: absolute
    hp = config.stages.trainer.hyperparameters
    assert hp["label_kind"] == "binary" and hp["classes"] == ["no", "yes"]  # the second is the positive class
    assert hp["numeric"] == ["tenure_months", "support_calls"] and hp["categorical"] == ["plan"]
    evaluation = config.stages.evaluation
    assert [list(s) for s in evaluation.slices] == [[], ["plan"]]
    assert evaluation.overall["auc"].min == 0.6 and evaluation.thresholds["binary_accuracy"].min == 0.5
    assert evaluation.min_examples == 10  # 300 rows: ~100 eval rows, ~33 per plan
    assert config.stages.trainer.train_steps == 50
    assert [d.approval for d in config.stages.push.destinations.values()] == ["auto", "manual"]
    assert config.schema_file is None  # the first run infers the schema and proposes it
    assert "classes ['no', 'yes'] (ids 0..1)" in init.stdout


def test_regression_label_gets_r2_gates_and_no_classes(cli, tmp_path):
    csv = tabular_csv.prices(tmp_path / "project" / "data" / "prices.csv")  # inside the project
    _, check, config = _init_and_check(cli, tmp_path, csv, "price")
    assert "label 'price': regression (declared)" in check.stdout
    assert Path(config.data.path) == csv  # written relative to the config: ../data/prices.csv
    assert "path: ../data/prices.csv" in (tmp_path / "project/configs/prices.yaml").read_text()
    hp = config.stages.trainer.hyperparameters
    assert hp["label_kind"] == "regression" and "classes" not in hp
    assert hp["numeric"] == ["area_m2", "rooms"] and hp["categorical"] == ["city"]
    evaluation = config.stages.evaluation
    assert evaluation.overall["r2"].min == 0.0
    assert 1000 < evaluation.thresholds["mean_absolute_error"].max_regression < 10000  # a tenth of ~50k
    assert [list(s) for s in evaluation.slices] == [[], ["city"]]


def test_integer_classes_and_a_declared_kind(tmp_path):
    csv = tmp_path / "grades.csv"
    csv.write_text("score,group,grade\n" + "".join(f"{i * 1.5},g{i % 2},{1 + i % 3}\n" for i in range(60)))
    found = profile(csv, label="grade")
    assert (found.label.kind, found.label.classes) == ("multiclass", (1, 2, 3))  # class id = position
    assert profile(csv, label="grade", label_kind="regression").label.kind == "regression"
    assert found.slice_column == "group"
    with pytest.raises(ProfileError, match=r"label column 'grade' of .*grades.csv has 3 distinct values, a binary"):
        profile(csv, label="grade", label_kind="binary")


def test_odd_column_names_survive_the_yaml(tmp_path):
    names = ["my col", "yes", "1.5", "a#b", "größe", "x: y", "label"]
    csv = tmp_path / "odd.csv"
    csv.write_text(
        ",".join(f'"{n}"' for n in names) + "\n" + "".join(f"{i},a{i % 3},{i},b,c,d,{i % 2}\n" for i in range(40))
    )
    project = csv_starter.write_csv_starter(tmp_path / "p", csv, label="label")
    hp = load_config(project.config).stages.trainer.hyperparameters
    assert hp["numeric"] + hp["categorical"] == ["my col", "1.5", "yes", "a#b", "größe", "x: y"]
    assert hp["classes"] == [0, 1]
    assert yaml.safe_load(project.config.read_text())["data"]["label"] == "label"


@pytest.mark.parametrize(
    ("content", "label", "kind", "message"),
    [
        ("a,b\n1,2\n", "y", None, r"label column 'y' is not in the header of .*data.csv \(columns: a, b\)"),
        ("a,y\n1,no\n2,no\n", "y", None, r"label column 'y' of .*data.csv holds one value only \('no'\)"),
        ("a,y\n1,3\n2,3.0\n", "y", None, r"label column 'y' of .*data.csv holds one value only"),
        ("a,y\n1,\n2,NA\n", "y", None, r"label column 'y' of .*data.csv has no value in its first 2 rows"),
        ("", "y", None, r"empty input: .*data.csv has no header and no rows"),
        ("a,y\n", "y", None, r".*data.csv has a header but no rows"),
        ("a,b,y\n1,,0\n2,NA,1\n", "y", None, r"data.csv: column 'b' has no value in the first 2 rows.*--exclude"),
        ("a,a,y\n1,2,0\n", "y", None, r"data.csv: the header repeats column 'a'"),
        ("y\n0\n1\n", "y", None, r"data.csv: no column besides the label 'y'"),
        ("a,y\n1,cat\n2,dog\n", "y", "regression", r"label column 'y' .* holds texts \('cat', 'dog'\): a regression"),
        ("a,y\n1,0.5\n2,1.5\n", "y", "multiclass", r"label column 'y' .* non-integer numbers.*--label-kind regression"),
    ],
)
def test_refusals_name_the_file_and_the_column(tmp_path, content, label, kind, message):
    csv = tmp_path / "data.csv"
    csv.write_text(content)
    with pytest.raises(ProfileError, match=message):
        csv_starter.write_csv_starter(tmp_path / "project", csv, label=label, label_kind=kind)
    assert not (tmp_path / "project").exists()


def test_a_compressed_or_missing_file_is_named(tmp_path):
    csv = tabular_csv.churn(tmp_path / "churn.csv")
    packed = tmp_path / "churn.csv.gz"
    packed.write_bytes(gzip.compress(csv.read_bytes()))
    with pytest.raises(ProfileError, match=r"churn.csv.gz: not a CSV file with a header line"):
        profile(packed, label="churned")
    with pytest.raises(ProfileError, match=r"cannot read the CSV .*nope.csv: No such file or directory"):
        profile(tmp_path / "nope.csv", label="churned")


def test_too_many_text_classes_and_excluded_columns(tmp_path):
    csv = tmp_path / "ids.csv"
    csv.write_text("id,empty,x,y\n" + "".join(f"r{i},,{i},t{i}\n" for i in range(80)))
    with pytest.raises(
        ProfileError, match=r"'y' of .*ids.csv has 80 distinct values .*too many classes \(at most 50\)"
    ):
        profile(csv, label="y", exclude=["empty"])
    found = profile(csv, label="x", exclude=["empty", "id"])
    assert (found.label.kind, found.numeric, found.categorical) == ("regression", (), ("y",))
    with pytest.raises(ProfileError, match=r"--exclude: no column 'nope' in .*ids.csv"):
        profile(csv, label="x", exclude=["nope"])


def test_cli_refuses_half_the_csv_flags_a_bad_name_and_an_existing_file(cli, tmp_path, capsys):
    csv = tabular_csv.churn(tmp_path / "churn.csv")
    half = cli("init", str(tmp_path / "p"), "--label", "churned")
    assert half.returncode == 2 and "tfxgate init: --label: only with --csv FILE" in half.stderr
    no_label = cli("init", str(tmp_path / "p"), "--csv", str(csv))
    assert no_label.returncode == 2 and "--csv needs --label COLUMN" in no_label.stderr
    bad = cli("init", str(tmp_path / "p"), "--csv", str(csv), "--label", "churned", "--name", "My_Churn")
    assert bad.returncode == 2 and "--name 'My_Churn': a pipeline name is [a-z0-9][a-z0-9-]*" in bad.stderr
    missing = cli("init", str(tmp_path / "p"), "--csv", str(csv), "--label", "gone")
    assert missing.returncode == 2 and f"label column 'gone' is not in the header of {csv}" in missing.stderr
    assert not (tmp_path / "p").exists()
    csv_starter.write_csv_starter(tmp_path / "p", csv, label="churned")
    with pytest.raises(StarterExists, match=r"already exists: .*p/configs/churn.yaml"):
        csv_starter.write_csv_starter(tmp_path / "p", csv, label="churned", label_kind="binary")
    with pytest.raises(SystemExit):
        main(["init", "--help"])
    help_text = capsys.readouterr().out
    for flag in ("--csv FILE", "--label COLUMN", "--label-kind {binary,multiclass,regression}", "--exclude COLUMN"):
        assert flag in help_text
