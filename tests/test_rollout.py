"""Canary and blue-green rollout: push -> candidate, promote, abort, a second candidate, and the CLI.

No training: the store is what a run leaves for a manual destination
(`tests/test_governance_cli.Setup`: a real SQLite ML Metadata store, model
directories, tfxgate.PendingApproval records), and each push is `tfxgate approve`,
which publishes through the same path as GovernedPush (`policy.carry_out`).
The production destination is configured with `rollout: {kind: canary, weight: 10}`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from tests.test_governance_cli import Setup
from tfxgate.governance import publish, rollout_state, serving_configs
from tfxgate.lineage.evidence import collect
from tfxgate.mlmd import audit


class CanarySetup(Setup):
    """`Setup` with production under a canary (or blue-green) rollout."""

    def __init__(self, tmp_path: Path, rollout: str = "{kind: canary, weight: 10}"):
        super().__init__(tmp_path)
        text = self.config.read_text()
        manual = "production: {path: production, approval: manual}"
        assert manual in text
        self.config.write_text(
            text.replace(manual, f"production: {{path: production, approval: manual, rollout: {rollout}}}")
        )
        self.production = self.serving / "production"

    def push(self, capsys, run_id: str, *, tag: str) -> int:
        """A new model pending for production, approved by ana: returns its model id."""
        model_id = self.pending_run(run_id, tag=tag)
        code, _, err = self.cli(capsys, "approve", run_id, "--by", "ana", "--reason", f"push {tag}")
        assert code == 0, err
        return model_id

    def state(self) -> rollout_state.RolloutState:
        return rollout_state.read(self.production)

    def kinds(self) -> list[str]:
        return [r.kind for r in audit.records(self.store(), pipeline="demo", kinds=audit.KINDS)]


@pytest.fixture
def canary(tmp_path) -> CanarySetup:
    return CanarySetup(tmp_path)


def tf_serving_config(directory: Path) -> model_server_config_pb2.ModelServerConfig:
    """The written TF Serving config, parsed strictly with TF Serving's own proto."""
    return text_format.Parse(
        (directory / "serving" / "models.config").read_text(), model_server_config_pb2.ModelServerConfig()
    )


def test_push_makes_a_candidate_beside_the_stable_version_then_promote(canary, capsys):
    canary.push(capsys, "run-1", tag="a")
    # The first push has nothing to compare with: it is stable at once.
    assert (canary.state().stable, canary.state().candidate) == ("1", None)
    assert os.readlink(canary.production / "current") == "1"

    second = canary.pending_run("run-2", tag="b")
    code, out, err = canary.cli(capsys, "approve", "run-2", "--by", "ana", "--reason", "push b")
    assert code == 0, err
    assert out.strip().endswith(
        f"pushed version 2 -> {canary.production / '2'} (the candidate at 10% of traffic: "
        "tfxgate promote / tfxgate abort)"
    )
    state = canary.state()
    assert (state.kind, state.stable, state.candidate, state.weights) == ("canary", "1", "2", {"1": 90, "2": 10})
    assert os.readlink(canary.production / "current") == "1", "the stable version stays current"
    assert (state.change.op, state.change.version, state.change.by) == ("push", "2", "ana")
    config = tf_serving_config(canary.production)
    [model] = config.model_config_list.config
    assert (model.name, model.base_path) == ("production", str(canary.production.resolve()))
    assert list(model.model_version_policy.specific.versions) == [1, 2]
    assert dict(model.version_labels) == {"stable": 1, "canary": 2}

    code, out, err = canary.cli(capsys, "history", "demo")
    assert code == 0, err
    assert [line[:2] for line in out.splitlines() if line[29:39].strip() == "push"] == ["* ", "c "]

    code, out, err = canary.cli(capsys, "promote", "demo", "--by", "bo", "--reason", "canary healthy")
    assert code == 0, err
    assert out.strip() == (
        "tfxgate: promoted candidate version 2 at production by bo: production now serves it as stable"
    )
    state = canary.state()
    assert (state.stable, state.candidate, state.weights) == ("2", None, {"2": 100})
    assert os.readlink(canary.production / "current") == "2"
    [promotion] = audit.records(canary.store(), pipeline="demo", kinds=[audit.PROMOTION])
    assert (promotion.version, promotion.previous_version, promotion.by, promotion.reason) == (
        "2",
        "1",
        "bo",
        "canary healthy",
    )
    assert promotion.model_id == second and promotion.run_id == "run-2"
    # The lineage walk from the model finds its promotion (`tfxgate lineage`'s decisions).
    governance = collect(canary.store(), model_artifact_id=second).governance
    assert [(g.kind, g.version) for g in governance if g.kind != audit.PENDING][-1] == (audit.PROMOTION, "2")
    [model] = tf_serving_config(canary.production).model_config_list.config
    assert list(model.model_version_policy.specific.versions) == [2] and dict(model.version_labels) == {"stable": 2}

    # Nothing left to promote: refused with exit 2, and nothing recorded.
    code, _, err = canary.cli(capsys, "promote", "demo", "--by", "bo", "--reason", "again")
    assert code == 2
    assert "cannot promote: destination 'production' has no candidate (it serves stable version 2)" in err
    assert canary.kinds().count(audit.PROMOTION) == 1

    rows = json.loads(canary.cli(capsys, "history", "demo", "--json")[1])
    assert [(r["kind"], r["version"], r["current"], r["candidate"]) for r in rows if r["kind"] != "pending"] == [
        ("push", "1", False, False),
        ("push", "2", True, False),
        ("promote", "2", False, False),
    ]


def test_abort_drops_the_candidate_and_a_rerun_of_the_push_does_not_revive_it(canary, capsys):
    canary.push(capsys, "run-1", tag="a")
    canary.push(capsys, "run-2", tag="b")
    code, out, err = canary.cli(capsys, "abort", "demo", "--by", "bo", "--reason", "slice x worse")
    assert code == 0, err
    assert "aborted candidate version 2 at production by bo: production serves stable version 1 alone" in out
    state = canary.state()
    assert (state.stable, state.candidate, state.dropped) == ("1", None, ("2",))
    assert os.readlink(canary.production / "current") == "1"
    [aborted] = audit.records(canary.store(), pipeline="demo", kinds=[audit.CANARY_ABORT])
    assert (aborted.version, aborted.previous_version, aborted.reason) == ("2", "1", "slice x worse")
    [model] = tf_serving_config(canary.production).model_config_list.config
    assert dict(model.version_labels) == {"stable": 1}
    isvc = yaml_manifest(canary.production)
    assert "canaryTrafficPercent" not in isvc["spec"]["predictor"]
    assert isvc["spec"]["predictor"]["model"]["storageUri"].endswith("/production/1")

    # Version 2 is the newest version and not current: completing "a killed push" must not make it live.
    publish.finish_push(canary.production, "2")
    assert (canary.state().candidate, publish.current_version(canary.production)) == (None, "1")
    code, _, err = canary.cli(capsys, "abort", "demo", "--by", "cy", "--reason", "twice")
    assert code == 2 and "cannot abort: destination 'production' has no candidate" in err


def test_a_second_candidate_replaces_the_first(canary, capsys):
    canary.push(capsys, "run-1", tag="a")
    canary.push(capsys, "run-2", tag="b")
    canary.push(capsys, "run-3", tag="c")
    state = canary.state()
    assert (state.stable, state.candidate, state.dropped, state.change.previous) == ("1", "3", ("2",), "1")
    assert canary.kinds().count(audit.PUSH) == 3
    code, _, err = canary.cli(capsys, "promote", "demo", "--by", "bo", "--reason", "3 is good")
    assert code == 0, err
    assert (canary.state().stable, publish.current_version(canary.production)) == ("3", "3")


def test_rollback_keeps_the_rollout_state_in_step_and_refuses_the_candidate(canary, capsys):
    canary.push(capsys, "run-1", tag="a")
    canary.push(capsys, "run-2", tag="b")
    assert canary.cli(capsys, "promote", "demo", "--by", "bo", "--reason", "ok")[0] == 0
    canary.push(capsys, "run-3", tag="c")
    code, _, err = canary.cli(capsys, "rollback", "demo", "--to", "3", "--by", "bo", "--reason", "x")
    assert code == 2 and "version 3 is the candidate at production: make it stable with tfxgate promote" in err
    code, _, err = canary.cli(capsys, "rollback", "demo", "--to", "1", "--by", "bo", "--reason", "2 regressed")
    assert code == 0, err
    state = canary.state()
    assert (state.stable, state.candidate, state.change.op) == ("1", "3", "rollback")
    assert publish.current_version(canary.production) == "1"
    assert dict(tf_serving_config(canary.production).model_config_list.config[0].version_labels) == {
        "stable": 1,
        "canary": 3,
    }


def test_blue_green_is_the_same_mechanism_at_weight_100(tmp_path, capsys):
    blue_green = CanarySetup(tmp_path, rollout="{kind: blue_green}")
    blue_green.push(capsys, "run-1", tag="a")
    blue_green.push(capsys, "run-2", tag="b")
    state = blue_green.state()
    assert (state.kind, state.stable, state.candidate, state.weights) == ("blue_green", "1", "2", {"1": 0, "2": 100})
    assert yaml_manifest(blue_green.production)["spec"]["predictor"]["canaryTrafficPercent"] == 100
    assert blue_green.cli(capsys, "abort", "demo", "--by", "bo", "--reason", "green fails")[0] == 0
    assert blue_green.state().weights == {"1": 100}


def test_a_direct_destination_is_unchanged_and_refuses_promote(tmp_path, capsys):
    setup = Setup(tmp_path)
    setup.pending_run("run-1", tag="a")
    assert setup.cli(capsys, "approve", "run-1", "--by", "ana", "--reason", "ok")[0] == 0
    production = setup.serving / "production"
    assert sorted(p.name for p in production.iterdir() if not p.name.startswith(".")) == [
        "1",
        "current",
    ], "a direct destination gets no rollout.json and no serving configs"
    code, _, err = setup.cli(capsys, "promote", "demo", "--by", "bo", "--reason", "x")
    assert code == 2
    assert "cannot promote: name the destination with --destination" in err
    code, _, err = setup.cli(capsys, "abort", "demo", "--destination", "production", "--by", "bo", "--reason", "x")
    assert code == 2
    assert "destination 'production' has no rollout" in err and "rollout.kind to canary or blue_green" in err


def test_abort_sends_the_canary_abort_alert(tmp_path, capsys):
    from tests.test_alerts import Hook  # a real HTTP server on loopback

    canary = CanarySetup(tmp_path)
    hook = Hook()
    try:
        canary.config.write_text(
            canary.config.read_text()
            + f"alerts:\n  sinks:\n    ops: {{kind: webhook, url: '{hook.url}', events: [canary_abort]}}\n"
        )
        canary.push(capsys, "run-1", tag="a")
        canary.push(capsys, "run-2", tag="b")
        assert canary.cli(capsys, "abort", "demo", "--by", "bo", "--reason", "slice x worse")[0] == 0
    finally:
        hook.close()
    [received] = hook.received
    payload = received["json"]
    assert (payload["event"], payload["status"], payload["destination"], payload["version"]) == (
        "canary_abort",
        "CANARY_ABORTED",
        "production",
        "2",
    )
    assert payload["details"] == {"candidate version": "2", "stable version": "1"}


def yaml_manifest(directory: Path) -> dict:
    import yaml

    return yaml.safe_load((directory / "serving" / "inferenceservice.yaml").read_text())


def test_serving_config_paths_are_stable():
    assert (serving_configs.FOLDER, serving_configs.TF_SERVING, serving_configs.KSERVE) == (
        "serving",
        "models.config",
        "inferenceservice.yaml",
    )
