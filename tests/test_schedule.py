"""`--if-new-data` and the per-pipeline lock (pipelines/schedule.py), and through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, TAXI_CONFIG, run_cli, small_run_overrides, taxi_rows
from tfxgate import storage
from tfxgate.pipelines import schedule
from tfxgate.pipelines.config.root import load_config


def _config(tmp_path: Path, data: Path):
    return load_config(TAXI_CONFIG, overrides=small_run_overrides(data, tmp_path / "root"))


@pytest.fixture
def data(tmp_path) -> Path:
    path = tmp_path / "taxi.csv"
    path.write_text(taxi_rows(1))
    return path


def test_new_data_until_a_success_is_recorded(tmp_path, data):
    config = _config(tmp_path, data)
    assert schedule.has_new_data(config)
    schedule.record_success(config, run_id="r1", processed=schedule.newest_input(config))
    assert not schedule.has_new_data(config)


def test_a_changed_input_file_is_new_data(tmp_path, data):
    config = _config(tmp_path, data)
    schedule.record_success(config, run_id="r1", processed=schedule.newest_input(config))
    data.write_text(taxi_rows(2))
    os.utime(data, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    assert schedule.has_new_data(config)


def test_second_lock_holder_is_refused_with_the_holder_named(tmp_path):
    with schedule.pipeline_lock(tmp_path) as waited:
        assert waited is False
        script = (
            "import sys; from pathlib import Path; from tfxgate.pipelines import schedule\n"
            f"with schedule.pipeline_lock(Path({str(tmp_path)!r})): sys.exit(0)\n"
        )
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode != 0
    assert f"another tfxgate run holds the lock on {tmp_path} (pid {os.getpid()}" in proc.stderr
    assert "--wait" in proc.stderr


def test_lock_is_free_again_after_the_block(tmp_path):
    with schedule.pipeline_lock(tmp_path):
        pass
    with schedule.pipeline_lock(tmp_path) as waited:
        assert waited is False


def test_run_if_new_data_skips_when_nothing_changed(tmp_path, data):
    config = _config(tmp_path, data)
    schedule.record_success(config, run_id="r1", processed=schedule.newest_input(config))
    sets = [item for o in small_run_overrides(data, tmp_path / "root") for item in ("--set", o)]
    result = run_cli("run", str(TAXI_CONFIG), *sets, "--if-new-data", root=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no new data for 'taxi' since the last successful run; nothing to do" in result.stdout


@pytest.mark.e2e
def test_two_overlapping_runs_never_run_concurrently(taxi_runs, copied_root, sample_csv):
    """A holds the lock for a whole (cached) run; B is refused, C waits, then finds nothing new."""
    assert (taxi_runs.root / schedule.LAST_SUCCESS).exists(), "a successful run records what it processed"
    sets = [item for o in small_run_overrides(sample_csv, copied_root) for item in ("--set", o)]
    tfxgate = str(Path(sys.executable).parent / "tfxgate")
    first = subprocess.Popen([tfxgate, "run", str(TAXI_CONFIG), *sets], cwd=REPO, stdout=subprocess.PIPE, text=True)
    lock = copied_root / storage.RUN_LOCK_FILE
    deadline = time.monotonic() + 120
    while f"pid {first.pid}" not in (lock.read_text() if lock.exists() else ""):
        assert first.poll() is None and time.monotonic() < deadline, "first run never took the lock"
        time.sleep(0.2)
    second = run_cli("run", str(TAXI_CONFIG), *sets, root=copied_root)
    waiting = run_cli("run", str(TAXI_CONFIG), *sets, "--if-new-data", "--wait", root=copied_root)
    first_out, _ = first.communicate(timeout=600)
    assert first.returncode == 0, first_out
    assert second.returncode == 3
    assert f"another tfxgate run holds the lock on {copied_root} (pid {first.pid}" in second.stderr
    assert waiting.returncode == 0, waiting.stderr
    assert "waited for the other run" in waiting.stdout and "no new data" in waiting.stdout
