"""Crash safety of a canary push, `tfxgate promote` and `tfxgate abort`: SIGKILL at each failpoint, retry, check.

Production is under `rollout: {kind: canary, weight: 10}` (`tests/test_rollout.CanarySetup`:
a real SQLite ML Metadata store, model directories, no training). Version 1 is
stable and version 2 the candidate; the killed command and its retry run as the
installed `tfxgate` in a subprocess (`tests/test_crash_governance.tfxgate`), the
retry in this process (a subprocess each would double the time for no new state).
Afterwards the push invariants hold (`tests/crash_push_driver.check_invariants`),
`rollout.json` is either the old state or the new one, `current` names its
stable version, the serving configs say what it says, and the change has
exactly one ML Metadata record.
"""

from __future__ import annotations

import signal

import pytest

from tests.crash_push_driver import check_invariants
from tests.test_crash_governance import governed, tfxgate
from tests.test_rollout import CanarySetup
from tfxgate.governance import publish, serving_configs
from tfxgate.mlmd import audit
from tfxgate.storage import failpoints


def assert_rollout_invariants(setup: CanarySetup, *, stable: str, candidate) -> None:
    assert check_invariants(setup.root, governed(setup)) == []
    state = setup.state()
    assert (state.stable, state.candidate) == (stable, candidate)
    assert publish.current_version(setup.production) == stable
    assert serving_configs.stale(setup.production, state) == []


def candidate_beside_stable(setup: CanarySetup, capsys) -> None:
    setup.push(capsys, "run-1", tag="a")
    setup.push(capsys, "run-2", tag="b")
    assert (setup.state().stable, setup.state().candidate) == ("1", "2")


@pytest.mark.parametrize("point", failpoints.reached_by(failpoints.CANARY))
def test_kill_a_canary_push_at_each_failpoint_then_retry(point, tmp_path, capsys):
    setup = CanarySetup(tmp_path)
    setup.push(capsys, "run-1", tag="a")
    setup.pending_run("run-2", tag="b")
    approve = ("approve", "run-2", "--by", "ana", "--reason", "canary it")
    killed = tfxgate(setup, *approve, armed=point)
    assert killed.returncode == -signal.SIGKILL, f"{point} was never reached: {killed.stdout}{killed.stderr}"
    # Killed after the commit point: version 2 is the candidate, never `current`.
    assert (setup.state().candidate, publish.current_version(setup.production)) == ("2", "1")

    code, out, err = setup.cli(capsys, *approve)  # the retry: in this process, nothing armed
    assert code == 0, err
    assert "was already approved for production by ana: it is version 2" in out
    assert_rollout_invariants(setup, stable="1", candidate="2")
    assert [r.version for r in audit.records(setup.store(), pipeline="demo", kinds=[audit.PUSH])] == ["1", "2"]


def test_kill_a_canary_push_before_its_commit_point_leaves_the_old_state(tmp_path, capsys):
    setup = CanarySetup(tmp_path)
    setup.push(capsys, "run-1", tag="a")
    setup.pending_run("run-2", tag="b")
    approve = ("approve", "run-2", "--by", "ana", "--reason", "canary it")
    killed = tfxgate(setup, *approve, armed="publish.after_rename")
    assert killed.returncode == -signal.SIGKILL
    assert (setup.state().stable, setup.state().candidate) == ("1", None), "rollout.json not yet written: old state"

    # Recovery completes the push from the version's manifest: as a candidate, not as `current`.
    code, _, err = setup.cli(capsys, "history", "demo")
    assert code == 0, err
    assert_rollout_invariants(setup, stable="1", candidate="2")


@pytest.mark.parametrize("point", failpoints.reached_by(failpoints.PROMOTE))
def test_kill_promote_at_each_failpoint_then_retry(point, tmp_path, capsys):
    setup = CanarySetup(tmp_path)
    candidate_beside_stable(setup, capsys)
    promote = ("promote", "demo", "--by", "bo", "--reason", "canary healthy")
    killed = tfxgate(setup, *promote, armed=point)
    assert killed.returncode == -signal.SIGKILL, f"{point} was never reached: {killed.stdout}{killed.stderr}"
    assert (setup.state().stable, setup.state().candidate) == ("2", None), "killed after the commit point"

    code, out, err = setup.cli(capsys, *promote)  # the retry: in this process, nothing armed
    assert code == 0, err
    assert "promoted candidate version 2 at production by bo" in out and "(a retry" in out
    assert_rollout_invariants(setup, stable="2", candidate=None)
    [record] = audit.records(setup.store(), pipeline="demo", kinds=[audit.PROMOTION])
    assert (record.version, record.previous_version, record.by, record.reason) == ("2", "1", "bo", "canary healthy")
    assert record.model_id is not None

    # Promoted once: promoting again (another person) is refused, and records nothing.
    code, _, err = setup.cli(capsys, "promote", "demo", "--by", "cy", "--reason", "again")
    assert code == 2 and "has no candidate" in err
    assert len(audit.records(setup.store(), pipeline="demo", kinds=[audit.PROMOTION])) == 1


@pytest.mark.parametrize("point", failpoints.reached_by(failpoints.ABORT))
def test_kill_abort_at_each_failpoint_then_retry(point, tmp_path, capsys):
    setup = CanarySetup(tmp_path)
    candidate_beside_stable(setup, capsys)
    abort = ("abort", "demo", "--by", "bo", "--reason", "slice x worse")
    killed = tfxgate(setup, *abort, armed=point)
    assert killed.returncode == -signal.SIGKILL, f"{point} was never reached: {killed.stdout}{killed.stderr}"
    assert (setup.state().stable, setup.state().candidate) == ("1", None), "killed after the commit point"

    code, out, err = setup.cli(capsys, *abort)  # the retry: in this process, nothing armed
    assert code == 0, err
    assert "aborted candidate version 2 at production by bo" in out and "(a retry" in out
    assert_rollout_invariants(setup, stable="1", candidate=None)
    [record] = audit.records(setup.store(), pipeline="demo", kinds=[audit.CANARY_ABORT])
    assert (record.version, record.previous_version, record.reason) == ("2", "1", "slice x worse")
    assert setup.state().dropped == ("2",)
