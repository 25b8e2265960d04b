"""Crash safety of `tfxgate approve` and `tfxgate rollback`: SIGKILL at each failpoint, retry the same command, check.

The store is what a run leaves for a manual destination, without training
(`tests/test_governance_cli.Setup`: a real SQLite ML Metadata store, a real
model directory, a tfxgate.PendingApproval). The killed command and its retry
run as the installed `tfxgate` in a subprocess; the first armed with
TFXGATE_FAILPOINTS, the retry without. Afterwards the invariants of
`tests/crash_push_driver.check_invariants` hold (per destination each model is
in at most one version; every version has exactly one push record with its
PushedModel; `current` names a complete version), `history` lists every
version, and there is exactly one Approval (or Rollback) record.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.crash_push_driver import check_invariants
from tests.test_governance_cli import Setup
from tfxgate.governance import publish
from tfxgate.mlmd import audit
from tfxgate.storage import failpoints

# In the order `approve` reaches them: its own, then the publish path's, then the push record's.
APPROVE_FAILPOINTS = failpoints.reached_by(failpoints.APPROVE, failpoints.PUSH)
ROLLBACK_FAILPOINTS = failpoints.reached_by(failpoints.ROLLBACK)


def tfxgate(setup: Setup, *args: str, armed: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != failpoints.ENV}
    env.update({failpoints.ENV: armed} if armed else {})
    return subprocess.run(
        [str(Path(sys.executable).parent / "tfxgate"), *args, "-c", str(setup.config)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )


def governed(setup: Setup):
    from tfxgate.pipelines.config.root import load_config

    return load_config(setup.config).governed()


def assert_invariants(setup: Setup, *, versions: list[str], current: str) -> None:
    from tfxgate.governance import store as governance

    target = governed(setup)
    assert check_invariants(setup.root, target) == []
    production = setup.serving / "production"
    assert publish.versions(production) == versions and publish.current_version(production) == current
    rows = governance.history(target, "demo")
    assert sorted(r.version for r in rows if r.kind == "push") == versions


def records(setup: Setup, kind: str) -> list[audit.Record]:
    return audit.records(setup.store(), pipeline="demo", kinds=[kind])


@pytest.mark.parametrize("point", APPROVE_FAILPOINTS)
def test_kill_approve_at_each_failpoint_then_retry(point, tmp_path, capsys):
    setup = Setup(tmp_path)
    model_id = setup.pending_run("run-1", tag="a")
    approve = ("approve", "run-1", "--by", "ana", "--reason", "slices fine")
    killed = tfxgate(setup, *approve, armed=point)
    assert killed.returncode == -signal.SIGKILL, f"{point} was never reached: {killed.stdout}{killed.stderr}"

    retry = tfxgate(setup, *approve)
    assert retry.returncode == 0, retry.stdout + retry.stderr
    production = setup.serving / "production"
    if point in ("publish.after_rename", "publish.after_current", "push.after_record"):
        # The version was published before the kill: the retry completes it and says so.
        assert f"was already approved for production by ana: it is version 1 -> {production / '1'}" in retry.stdout
    else:
        assert f"pushed version 1 -> {production / '1'} (now current)" in retry.stdout
    assert_invariants(setup, versions=["1"], current="1")
    [approval] = records(setup, audit.APPROVAL)
    [push] = records(setup, audit.PUSH)
    assert (approval.by, approval.reason, approval.model_id) == ("ana", "slices fine", model_id)
    assert (push.by, push.run_id, push.version, push.model_id) == ("ana", "run-1", "1", model_id)

    # Once complete, a second approval by someone else is still refused, and pushes nothing.
    code, _, err = setup.cli(capsys, "approve", "run-1", "--by", "bo", "--reason", "again")
    assert code == 2 and "is already approved for production by ana" in err
    assert publish.versions(production) == ["1"] and len(records(setup, audit.PUSH)) == 1


def two_versions(setup: Setup, capsys) -> None:
    """Production at version 2, with version 1 (another model) behind it."""
    setup.pending_run("run-1", tag="a")
    assert setup.cli(capsys, "approve", "run-1", "--by", "ana", "--reason", "first")[0] == 0
    setup.pending_run("run-2", tag="b")
    assert setup.cli(capsys, "approve", "run-2", "--by", "ana", "--reason", "second")[0] == 0
    assert publish.current_version(setup.serving / "production") == "2"


@pytest.mark.parametrize("point", ROLLBACK_FAILPOINTS)
def test_kill_rollback_at_each_failpoint_then_retry(point, tmp_path, capsys):
    setup = Setup(tmp_path)
    two_versions(setup, capsys)
    rollback = ("rollback", "demo", "--to", "1", "--by", "bob", "--reason", "2 misbehaves")
    killed = tfxgate(setup, *rollback, armed=point)
    assert killed.returncode == -signal.SIGKILL, f"{point} was never reached: {killed.stdout}{killed.stderr}"

    retry = tfxgate(setup, *rollback)
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert "production now serves version 1 (was 2), rolled back by bob (a retry: completed now)" in retry.stdout
    assert_invariants(setup, versions=["1", "2"], current="1")
    [record] = records(setup, audit.ROLLBACK)
    assert (record.version, record.previous_version, record.by, record.reason) == ("1", "2", "bob", "2 misbehaves")
    assert len(records(setup, audit.APPROVAL)) == 2 and len(records(setup, audit.PUSH)) == 2

    # Rolled back once: the same rollback by someone else is refused, and records nothing.
    code, _, err = setup.cli(capsys, "rollback", "demo", "--to", "1", "--by", "cy", "--reason", "twice")
    assert code == 2 and "production already serves version 1: nothing to roll back" in err
    assert len(records(setup, audit.ROLLBACK)) == 1


def test_rolling_back_to_the_served_version_without_a_kill_is_still_refused(tmp_path, capsys):
    setup = Setup(tmp_path)
    two_versions(setup, capsys)
    code, _, err = setup.cli(capsys, "rollback", "demo", "--to", "2", "--by", "bob", "--reason", "no-op")
    assert code == 2 and "production already serves version 2: nothing to roll back" in err
    assert records(setup, audit.ROLLBACK) == []
