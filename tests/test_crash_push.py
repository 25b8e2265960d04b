"""Crash safety of a governed push: SIGKILL at every named failpoint (and at random instants), rerun, check.

The push path's failpoints are killed in `tests/crash_push_driver.py` (the
same core calls as the GovernedPush executor, on a real ML Metadata store; a
few seconds each). The two failpoints that only exist inside a real pipeline
run (`push.after_executor`: the component returned but TFX has not marked it
COMPLETE; `push.after_complete`: COMPLETE but the runner has not linked its
PushedModel) are killed in a real `tfxgate run` on a copy of the session's
trained root, where a new destination path makes only GovernedPush run again.
After each kill and one clean rerun: per destination every model is at most
one version; every version has exactly one push record (with its PushedModel)
and `history` lists it; `current` is a complete version; nothing is RUNNING;
the approve command printed by an earlier run still works.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, TAXI_CONFIG, run_cli, run_pipeline
from tests.crash_push_driver import check_invariants, drive, make_model, target
from tfxgate.storage import failpoints

pytestmark = pytest.mark.e2e

# The publish-and-record path, as the GovernedPush executor (and `approve`) goes through it.
DRIVER_FAILPOINTS = failpoints.reached_by(failpoints.PUSH)


def history_versions(root: Path) -> list[tuple[str, str]]:
    from tfxgate.governance import store as governance

    return [(row.destination, row.version) for row in governance.history(target(root), "taxi") if row.kind == "push"]


def approve(root: Path, run_id: str):
    from tfxgate.governance import store as governance

    return governance.approve(target(root), run_id, by="ana", reason="ok", destination="production")


@pytest.mark.parametrize("point", DRIVER_FAILPOINTS)
def test_kill_at_each_push_failpoint_then_rerun(point, tmp_path):
    root = tmp_path / "root"
    first, second = make_model(tmp_path / "a", tag="a"), make_model(tmp_path / "b", tag="b")
    assert drive(root, first, "run-1").returncode == 0
    killed = drive(root, second, "run-2", armed=point)
    assert killed.returncode == -signal.SIGKILL, f"{point} was never reached: {killed.stdout}{killed.stderr}"

    rerun = drive(root, second, "run-3")
    assert rerun.returncode == 0, rerun.stderr
    assert check_invariants(root) == []
    staging = root / "serving" / "staging"
    from tfxgate.governance import publish

    assert publish.versions(staging) == ["1", "2"] and publish.current_version(staging) == "2"
    assert sorted(history_versions(root)) == [("staging", "1"), ("staging", "2")]
    # The first run's approve command still works, and it pushes model a, once.
    done = approve(root, "run-1")
    assert done.record.version == "1" and publish.versions(root / "serving" / "production") == ["1"]
    assert check_invariants(root) == []


def test_a_version_without_its_record_is_recovered_and_marked(tmp_path):
    """Kill after the rename: the rerun's recovery rebuilds the record from the manifest (recovered=1)."""
    root = tmp_path / "root"
    model = make_model(tmp_path / "a", tag="a")
    assert drive(root, model, "run-1", armed="publish.after_rename").returncode == -signal.SIGKILL
    rerun = drive(root, model, "run-2")
    assert "recovery: staging version 1 had no push record; rebuilt from its manifest" in rerun.stdout
    assert "was left RUNNING by a dead process; marked FAILED" in rerun.stdout
    from tfxgate.mlmd import audit
    from tfxgate.mlmd.store import open_store

    store = open_store(target(root).metadata, root=root, read_only=True)
    [push] = audit.records(store, pipeline="taxi", kinds=[audit.PUSH])
    assert (push.recovered, push.run_id, push.version) == ("1", "run-1", "1")
    assert check_invariants(root) == []


def test_a_record_whose_version_is_gone_is_marked_failed(tmp_path):
    import shutil

    root = tmp_path / "root"
    assert drive(root, make_model(tmp_path / "a", tag="a"), "run-1").returncode == 0
    shutil.rmtree(root / "serving" / "staging" / "1")
    rerun = drive(root, make_model(tmp_path / "b", tag="b"), "run-2")
    assert "names staging version 1 (" in rerun.stdout and "which is missing; marked state=failed" in rerun.stdout
    assert check_invariants(root) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_kill_then_rerun_holds_the_invariants(seed, tmp_path):
    root = tmp_path / "root"
    assert kill_at_random(root, tmp_path, seed=seed) == []


def kill_at_random(root: Path, scratch: Path, *, seed: int) -> list[str]:
    """One pushed model, a second push SIGKILLed after a random delay, a clean rerun; the violations found."""
    rng = random.Random(seed)
    first = make_model(scratch / "a", tag=f"a{seed}")
    second = make_model(scratch / "b", tag=f"b{seed}", files=40, size=1 << 16)
    if drive(root, first, "run-1").returncode != 0:
        return ["the first push failed"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.crash_push_driver", str(root), str(second), "run-2"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"  # imports done: recovery + push take about a second
    time.sleep(rng.uniform(0.0, 1.0))
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    rerun = drive(root, second, "run-3")
    if rerun.returncode != 0:
        return [f"the rerun failed: {rerun.stderr[-2000:]}"]
    problems = check_invariants(root)
    if history_versions(root) != [("staging", "1"), ("staging", "2")]:
        problems.append(f"history lists {history_versions(root)}")
    return problems


# In a real `tfxgate run`: a new staging path makes GovernedPush (only) run again on the session's trained model.
PIPELINE_FAILPOINTS = failpoints.reached_by(failpoints.PIPELINE)


@pytest.mark.parametrize("point", PIPELINE_FAILPOINTS)
def test_kill_in_a_pipeline_run_then_rerun(point, taxi_runs, copied_root, sample_csv):
    from tfxgate.governance import publish
    from tfxgate.pipelines.config.root import load_config

    where = f"stages.push.destinations.staging.path=staging-{point.replace('.', '-')}"
    env = {**os.environ, failpoints.ENV: point}
    killed = run_pipeline(sample_csv, copied_root, where, env=env)
    assert killed.returncode == -signal.SIGKILL, f"{point} was never reached: {killed.stdout}{killed.stderr}"
    clean = {k: v for k, v in os.environ.items() if k != failpoints.ENV}
    rerun = run_pipeline(sample_csv, copied_root, where, env=clean)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr

    sets = [f"data.path={sample_csv}", f"pipeline.root={copied_root}", f"stages.push.root={copied_root / 'serving'}"]
    governed = load_config(TAXI_CONFIG, overrides=[*sets, where]).governed()
    assert check_invariants(copied_root, governed) == []
    staging = governed.destinations["staging"].directory
    assert publish.versions(staging) == ["1"] and publish.current_version(staging) == "1", "one version, not two"
    if point == "push.after_executor":
        assert "was left RUNNING by a dead process; marked FAILED" in rerun.stdout
    # The approve command the session's first run printed still works.
    [first, _] = taxi_runs.first.summaries()
    approve_sets = [item for o in [*sets, where] for item in ("--set", o)]
    decision = ["--by", "ana", "--reason", "ok", "--destination", "production"]
    approved = run_cli("approve", first["run_id"], "-c", str(TAXI_CONFIG), *approve_sets, *decision, root=copied_root)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert check_invariants(copied_root, governed) == []


def test_a_recorded_version_from_before_manifests_gets_one(tmp_path):
    root = tmp_path / "root"
    assert drive(root, make_model(tmp_path / "a", tag="a"), "run-1").returncode == 0
    (root / "serving" / "staging" / "1" / "tfxgate-push.json").unlink()  # as a push made before manifests left it
    rerun = drive(root, make_model(tmp_path / "b", tag="b"), "run-2")
    assert "predates manifests; wrote its manifest" in rerun.stdout
    assert check_invariants(root) == [] and history_versions(root) == [("staging", "1"), ("staging", "2")]
