"""A corpus of bad configs and bad data sources: `tfxgate check` refuses each one.

Every case exits 2 with no traceback, and its message names what is wrong and
where: the file, and the key, line or column. The cases are files:

- `tests/testdata/bad_configs/NAME.yaml`: one thing of `good_pipeline/pipeline.yaml`
  broken. Its `# set: key=value` lines are passed as `--set`; its `# expect: text`
  lines must all appear in the message. A file that is not UTF-8 text (binary,
  UTF-16, Latin-1) keeps its expectations in `NAME.expect` beside it.
- `tests/testdata/bad_data/*`: data files the good config is pointed at with
  `--set data.path=...`; the expected text is in `BAD_DATA` below.

`check` runs in-process (`tfxgate.cli.main.main`) for speed; three cases also
run through the installed command, to prove no traceback reaches the terminal.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tfxgate.cli.main import main

TESTDATA = Path(__file__).parent / "testdata"
GOOD = TESTDATA / "good_pipeline" / "pipeline.yaml"
BAD_CONFIGS = TESTDATA / "bad_configs"
BAD_DATA_DIR = TESTDATA / "bad_data"

# data file (under bad_data/) -> (extra --set, text the message must contain)
BAD_DATA = {
    "empty.csv": ([], "empty.csv: empty file"),
    "blank_lines.csv": ([], "blank_lines.csv: empty file"),
    "header_only.csv": ([], "header_only.csv: a header but no rows"),
    "renamed_column.csv": ([], "renamed_column.csv: line 1: the header lacks column 'amount' (renamed 'amt'?)"),
    "missing_column.csv": ([], "missing_column.csv: line 1: the header lacks column 'color', required by the schema"),
    "utf16.csv": ([], "utf16.csv: UTF-16 text"),
    "binary.csv": ([], "binary.csv: not a CSV text file (NUL byte at offset 8)"),
    "latin1_header.csv": ([], "latin1_header.csv: line 1, column 18: the header is not UTF-8 text (byte 0xe9)"),
    "duplicate_column.csv": ([], "duplicate_column.csv: line 1, column 4: column 'id' appears twice"),
    "empty_column_name.csv": ([], "empty_column_name.csv: line 1, column 3: empty column name"),
    "mixed_headers": ([], "mixed_headers/b.csv: line 1: header differs from"),
    "absent.csv": ([], "no such file or directory"),
    "not_parquet.parquet": (["data.format=parquet"], "not_parquet.parquet: not a Parquet file"),
    "no_rows.parquet": (["data.format=parquet"], "no_rows.parquet: a schema but no rows"),
    "missing_column.parquet": (
        ["data.format=parquet"],
        "missing_column.parquet: line 1: the header lacks column 'color'",
    ),
}


def config_cases() -> list[Path]:
    return sorted(BAD_CONFIGS.glob("*.yaml"))


def directives(case: Path) -> tuple[list[str], list[str]]:
    """(--set values, expected texts) of a bad config case."""
    sidecar = case.with_suffix(".expect")
    if sidecar.exists():
        lines = [line for line in sidecar.read_text().splitlines() if line and not line.startswith("#")]
        return [], lines
    text = case.read_text(encoding="utf-8")
    sets = [line[len("# set: ") :] for line in text.splitlines() if line.startswith("# set: ")]
    expected = [line[len("# expect: ") :] for line in text.splitlines() if line.startswith("# expect: ")]
    return sets, expected


def check(capsys, config: Path, sets: list[str]) -> tuple[int, str]:
    code = main(["check", str(config), *[arg for item in sets for arg in ("--set", item)]])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_corpus_is_big_enough():
    assert len(config_cases()) >= 30
    assert len(BAD_DATA) >= 10


def test_the_good_pipeline_passes(capsys):
    """The control: every bad case differs from this config in one thing."""
    code, output = check(capsys, GOOD, [])
    assert code == 0, output
    assert "OK (pipeline 'good'" in output


@pytest.mark.parametrize("case", config_cases(), ids=lambda p: p.stem)
def test_bad_config_is_refused_naming_where(capsys, case):
    sets, expected = directives(case)
    assert expected, f"{case.name} has no `# expect:` line"
    code, output = check(capsys, case, sets)
    assert code == 2, output
    assert "Traceback" not in output
    assert str(case) in output  # the file
    for text in expected:
        assert text in output, f"{text!r} not in:\n{output}"


@pytest.mark.parametrize("name", sorted(BAD_DATA))
def test_bad_data_source_is_refused_naming_the_file(capsys, name):
    sets, expected = BAD_DATA[name]
    code, output = check(capsys, GOOD, [f"data.path={BAD_DATA_DIR / name}", *sets])
    assert code == 2, output
    assert "Traceback" not in output
    assert "data.path" in output
    assert expected in output, output


def test_a_data_key_missing_from_the_header_is_named(capsys):
    code, output = check(capsys, GOOD, ["data.key=trip_id"])
    assert code == 2
    assert "data.key" in output and "data.csv: line 1: the header lacks column 'trip_id'" in output


def test_remote_sources_are_reported_not_checked(capsys):
    code, output = check(capsys, GOOD, ["data.path=gs://bucket/taxi/*.csv", "stages.drift.serving=s3://b/serving.csv"])
    assert code == 0, output
    assert "data.path gs://bucket/taxi/*.csv: not checked (remote)" in output
    assert "stages.drift.serving s3://b/serving.csv: not checked (remote)" in output


def test_the_alias_bomb_is_refused_before_it_expands(capsys):
    """Nine levels of nine aliases: 387 million strings if expanded. A timing bound is
    deliberate here: the failure this guards against is exponential (a hang), not slow."""
    start = time.process_time()
    code, output = check(capsys, BAD_CONFIGS / "alias_bomb.yaml", [])
    assert code == 2
    assert time.process_time() - start < 2.0
    assert "lol" not in output  # the value is never echoed


@pytest.mark.parametrize(
    "args, expected",
    [
        (["check", str(BAD_CONFIGS / "binary.yaml")], "binary.yaml: line 3: not a text file"),
        (["check", str(BAD_CONFIGS / "utf16_bom.yaml")], "utf16_bom.yaml: the file is UTF-16 text"),
        (
            ["check", str(GOOD), "--set", f"data.path={BAD_DATA_DIR / 'header_only.csv'}"],
            "header_only.csv: a header but no rows",
        ),
    ],
    ids=["binary-config", "utf16-config", "header-only-data"],
)
def test_the_installed_command_prints_no_traceback(args, expected):
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "tfxgate"), *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert expected in proc.stderr
