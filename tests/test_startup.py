"""Start-up: the commands that only read or decide import no TensorFlow, TFMA, Beam, TFX, TFDV, scipy or pyarrow.

`check`, `history`, `approve`, `reject`, `rollback`, `lineage`, `report` and
`run --if-new-data` with nothing new run in a fresh `tfxgate` process here, as a user types them, with Python's
`-X importtime` switched on (PYTHONPROFILEIMPORTTIME): every module the command
imported is listed on stderr. A heavy import at the top of any module these
commands load (a config model importing an executor, a reader importing TFMA)
makes the test fail and names the module that pulled it in. Not a timing test:
it asserts what was imported, not how long it took.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import TAXI_CONFIG, run_cli, small_run_overrides
from tests.governed_store import build
from tests.test_governance_cli import Setup

# Heavy packages a read-or-decide command must not import (ml_metadata is needed: it reads the store).
HEAVY = (
    "tensorflow",
    "tensorflow_model_analysis",
    "apache_beam",
    "tfx",
    "tfx_bsl",
    "tensorflow_data_validation",
    "scipy",
    "pyarrow",
    "pandas",
)
_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|( *)(\S+)$")


def imported(stderr: str) -> list[tuple[int, str]]:
    """(depth, module) for every line of `-X importtime` output, in the order Python prints them."""
    found = []
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match:
            found.append((len(match.group(1)), match.group(2)))
    return found


def heavy_imports(stderr: str) -> list[str]:
    """Each heavy top-level package imported, with the chain of modules that imported it.

    Python prints a module after the modules it imported (children first, one
    indentation level deeper), so a module's importer is the next line with a
    smaller indentation.
    """
    modules = imported(stderr)
    found, seen = [], set()
    for index, (depth, name) in enumerate(modules):
        package = name.split(".")[0]
        if package not in HEAVY or package in seen:
            continue
        seen.add(package)
        chain, level = [name], depth
        for later_depth, later_name in modules[index + 1 :]:
            if later_depth < level:
                chain.append(later_name)
                level = later_depth
        found.append(" <- ".join(chain))
    return found


def cli(*args: str, root: Path):
    """`tfxgate ARGS` in a fresh process with import tracing; fails the test if it exits non-zero."""
    result = run_cli(*args, root=root, timeout=300, env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert imported(result.stderr), "no -X importtime output: the check below would pass vacuously"
    return result


def test_the_import_trace_names_a_heavy_import_and_its_importer():
    """The parser the tests below rely on, on real `-X importtime` lines."""
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       100 |        100 |       scipy.special\n"
        "import time:       100 |        200 |     scipy.stats\n"
        "import time:       100 |        300 |   tfxgate.drift.measures\n"
        "import time:       100 |        400 | tfxgate.pipelines.config.root\n"
        "import time:       100 |        100 | yaml\n"
    )
    assert heavy_imports(stderr) == [
        "scipy.special <- scipy.stats <- tfxgate.drift.measures <- tfxgate.pipelines.config.root"
    ]


def test_check_imports_nothing_heavy(tmp_path):
    setup = Setup(tmp_path)
    result = cli("check", str(setup.config), root=tmp_path)
    assert f"{setup.config}: OK (pipeline 'demo'" in result.stdout
    assert heavy_imports(result.stderr) == []


@pytest.fixture(scope="module")
def governed(tmp_path_factory):
    """Two recorded runs of `taxi` (pushed versions 7 and 8) for lineage and report."""
    return build(tmp_path_factory.mktemp("governed"))


def test_lineage_and_report_import_nothing_heavy(governed, tmp_path):
    root = str(governed.path.parent)
    result = cli("lineage", str(TAXI_CONFIG), "7", "--root", root, root=governed.path.parent)
    assert result.stdout.startswith(f"model {governed.model_id}")
    assert heavy_imports(result.stderr) == []
    page = tmp_path / "report.html"
    result = cli("report", str(TAXI_CONFIG), "run-2", "--root", root, "--output", str(page), root=governed.path.parent)
    assert page.is_file() and "tfxgate: report of pipeline 'taxi'" in result.stdout
    assert heavy_imports(result.stderr) == []


def test_governance_commands_import_nothing_heavy(tmp_path):
    setup = Setup(tmp_path)
    for run_id in ("run-1", "run-2", "run-3"):
        setup.pending_run(run_id, tag=run_id)
    decide = ("-c", str(setup.config), "--by", "ana", "--reason", "checked")
    steps = [
        ("approve", "run-1", *decide),
        ("approve", "run-2", *decide),
        ("reject", "run-3", *decide),
        ("rollback", "demo", "--to", "1", *decide),
        ("history", "demo", "-c", str(setup.config)),
    ]
    for args in steps:
        result = cli(*args, root=tmp_path)
        assert heavy_imports(result.stderr) == [], args
    assert os.readlink(setup.serving / "production" / "current") == "1"  # the commands did their work


def test_run_with_nothing_new_imports_nothing_heavy(tmp_path):
    """`run --if-new-data` on input the last successful run processed answers before building the pipeline.

    (A plain `run` with nothing changed since the last complete run stops before TFX too: below.)
    """
    from tfxgate.pipelines import schedule
    from tfxgate.pipelines.config.root import load_config

    setup = Setup(tmp_path)
    config = load_config(setup.config)
    schedule.record_success(config, run_id="run-1", processed=schedule.newest_input(config))
    result = cli("run", str(setup.config), "--if-new-data", root=tmp_path)
    assert "no new data for 'demo' since the last successful run; nothing to do" in result.stdout
    assert heavy_imports(result.stderr) == []


def test_unchanged_run_answers_before_importing_tfx_and_repeats_the_outcome(taxi_runs, sample_csv):
    """A plain `run` after the e2e runs: nothing changed, so no stage runs and the last outcome stands."""
    from tests.test_e2e_taxi import metadata_store

    [_, rerun] = taxi_runs.rerun.summaries()
    store = metadata_store(taxi_runs.root)
    executions, artifacts = len(store.get_executions()), len(store.get_artifacts())
    sets = [item for o in small_run_overrides(sample_csv, taxi_runs.root) for item in ("--set", o)]
    result = cli("run", str(TAXI_CONFIG), *sets, root=taxi_runs.root)
    assert f"nothing changed since run {rerun['run_id']}" in result.stdout
    assert "that run's outcome stands: SUCCEEDED" in result.stdout
    assert f"tfxgate report {TAXI_CONFIG} {rerun['run_id']} --set" in result.stdout
    assert heavy_imports(result.stderr) == []
    assert len(taxi_runs.rerun.summaries()) == 2  # no run was added
    store = metadata_store(taxi_runs.root)
    assert (len(store.get_executions()), len(store.get_artifacts())) == (executions, artifacts)
