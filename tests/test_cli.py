"""The `tfxgate` command's surface: help, check, exit codes, messages on stderr."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, TAXI_CONFIG, run_cli


def test_help_lists_the_commands(tmp_path):
    result = run_cli("--help", root=tmp_path)
    assert result.returncode == 0
    for command in ("check", "run", "approve", "reject", "rollback", "history"):
        assert command in result.stdout


def test_run_help_documents_root_and_set(tmp_path):
    result = run_cli("run", "--help", root=tmp_path)
    assert result.returncode == 0
    assert "--root" in result.stdout and "--set" in result.stdout


def test_check_accepts_the_demo_config(tmp_path):
    result = run_cli("check", str(TAXI_CONFIG), root=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK (pipeline 'taxi'" in result.stdout
    assert "warning:" not in result.stdout  # the taxi sample has no undeclared missing-value tokens


def test_check_names_numeric_columns_with_undeclared_missing_value_tokens(tmp_path):
    # The good_pipeline config: its schema requires exactly these columns (check reads the header).
    config = str(REPO / "tests" / "testdata" / "good_pipeline" / "pipeline.yaml")
    data = tmp_path / "mine.csv"
    data.write_text("id,amount,color,label\n1,1.5,A,0\n2,?,B,1\n3,2.0,C,-\n4,2.5,D,1\n")
    result = run_cli("check", config, "--set", f"data.path={data}", root=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, result.stdout
    assert warnings[0].startswith(f"warning: data.null_values: column 'amount' of {data} holds numbers except for '?'")
    assert "'-' (1x)" in warnings[1] and "add them to data.null_values" in warnings[1]
    declared = run_cli(
        "check", config, "--set", f"data.path={data}", "--set", "data.null_values=['?', '-']", root=tmp_path
    )
    assert declared.returncode == 0 and "warning:" not in declared.stdout, declared.stdout + declared.stderr


def test_check_reports_config_errors_with_exit_code_2(tmp_path):
    result = run_cli(
        "check",
        str(TAXI_CONFIG),
        "--set",
        "stages.evaluation.thresholds.auc.min=7",
        "--set",
        "data.path=/nonexistent/taxi.csv",
        root=tmp_path,
    )
    assert result.returncode == 2
    assert "invalid config (2 problems)" in result.stderr
    assert "data.path" in result.stderr and "/nonexistent/taxi.csv" in result.stderr
    assert "thresholds.auc.min: 7.0 is outside [0, 1]" in result.stderr


def test_run_refuses_a_bad_config_before_running_anything(tmp_path):
    result = run_cli(
        "run",
        str(TAXI_CONFIG),
        "--root",
        str(tmp_path / "root"),
        "--set",
        "stages.trainer.train_stepz=5",
        root=tmp_path,
    )
    assert result.returncode == 2
    assert "stages.trainer.train_stepz" in result.stderr and "unknown key" in result.stderr
    assert not (tmp_path / "root").exists()


def test_unknown_command_is_a_usage_error(tmp_path):
    result = run_cli("deploy", str(TAXI_CONFIG), root=tmp_path)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_version(tmp_path):
    result = run_cli("--version", root=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("tfxgate ")


def test_install_publishes_only_tfxgate(tmp_path):
    """`components/` and `pipelines/` are importable only as tfxgate subpackages."""
    code = (
        "import importlib.util as u, tfxgate.components as c, tfxgate.pipelines as p; "
        "print(u.find_spec('components'), u.find_spec('pipelines'), c.__file__, p.__file__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    none_c, none_p, components_init, pipelines_init = out.stdout.split()
    assert (none_c, none_p) == ("None", "None")
    assert components_init == str(REPO / "components" / "__init__.py")
    assert pipelines_init == str(REPO / "pipelines" / "__init__.py")


def test_metadata_check_help_documents_upgrade(tmp_path):
    result = run_cli("metadata", "check", "--help", root=tmp_path)
    assert result.returncode == 0
    assert "--upgrade" in result.stdout and "CONFIG" in result.stdout.upper()
