"""Decisions bind to the model, not the run: the rejection matrix, reopen, stale approvals, superseded runs.

A real SQLite ML Metadata store with real model directories (no pipeline run):
`tests/test_governance_cli.Setup` records what a run leaves for a manual
destination (a Model artifact and its tfxgate.PendingApproval). An unchanged
rerun whose Trainer is served from cache leaves a new PendingApproval on the
*same* Model artifact; a retrain on new data leaves a new artifact with other files.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.test_governance_cli import Setup
from tfxgate.governance.fingerprint import model_fingerprint
from tfxgate.mlmd import audit


@pytest.fixture
def setup(tmp_path) -> Setup:
    return Setup(tmp_path)


def versions(setup: Setup) -> list[str]:
    production = setup.serving / "production"
    return sorted((p.name for p in production.iterdir() if p.name.isdigit()), key=int) if production.exists() else []


def test_rejected_model_stays_rejected_for_an_unchanged_rerun_until_reopened(setup, capsys):
    model_id = setup.pending_run("run-1", tag="same")
    assert setup.cli(capsys, "reject", "run-1", "--by", "cy", "--reason", "bias in slice X")[0] == 0
    setup.pending("run-2", model_id)  # unchanged pipeline rerun: the Trainer is served from cache

    code, out, err = setup.cli(capsys, "approve", "run-2", "--by", "ana", "--reason", "looks fine")
    assert code == 2 and out == ""
    assert f"tfxgate: run run-2: model {model_id} (" in err
    assert "was rejected for production by cy at " in err and "('bias in slice X', in run run-1)" in err
    assert f"tfxgate reopen run-2 -c {setup.config} --by NAME --reason TEXT --destination production" in err
    assert versions(setup) == []
    # Rejecting it again through the new run is refused too: the model is already rejected.
    code, _, err = setup.cli(capsys, "reject", "run-2", "--by", "cy", "--reason", "again")
    assert code == 2 and ") is already rejected for production by cy at " in err and "(run run-1)" in err

    # Re-opening is an audited decision of its own; then the same model can be approved.
    code, out, err = setup.cli(capsys, "reopen", "run-2", "--by", "dee", "--reason", "slice X was mislabelled")
    assert code == 0, err
    assert out.startswith(f"tfxgate: reopened model {model_id} (") and "for production by dee" in out
    [reopen] = audit.records(setup.store(), pipeline="demo", kinds=[audit.REOPEN])
    assert (reopen.by, reopen.reason, reopen.model_id, reopen.run_id, reopen.destination) == (
        "dee",
        "slice X was mislabelled",
        model_id,
        "run-1",
        "production",
    )
    assert reopen.model_fingerprint == model_fingerprint(setup.tmp / "models" / "run-1" / "Format-Serving")
    code, _, err = setup.cli(capsys, "reopen", "run-2", "--by", "dee", "--reason", "twice")
    assert code == 2 and "has no standing rejection at production: nothing to reopen" in err

    assert setup.cli(capsys, "approve", "run-2", "--by", "ana", "--reason", "after review")[0] == 0
    assert versions(setup) == ["1"]
    history = json.loads(setup.cli(capsys, "history", "demo", "--json")[1])
    assert [(r["kind"], r["run_id"], r["by"]) for r in history] == [
        ("push", "run-2", "ana"),
        ("rejection", "run-1", "cy"),
        ("reopen", "run-1", "dee"),
    ] or [(r["kind"], r["run_id"], r["by"]) for r in history] == [
        ("rejection", "run-1", "cy"),
        ("reopen", "run-1", "dee"),
        ("push", "run-2", "ana"),
    ]
    assert {r["model_id"] for r in history} == {model_id}


def test_a_retrained_model_with_the_same_files_is_the_same_model(setup, capsys):
    """A new Model artifact whose SavedModel is byte-identical (same fingerprint) meets the same rejection."""
    setup.pending_run("run-1", tag="same")
    assert setup.cli(capsys, "reject", "run-1", "--by", "cy", "--reason", "no")[0] == 0
    setup.pending_run("run-2", tag="same")
    code, _, err = setup.cli(capsys, "approve", "run-2", "--by", "ana", "--reason", "ok")
    assert code == 2 and "was rejected for production by cy" in err and "in run run-1" in err


def test_a_model_trained_on_new_data_is_judged_afresh(setup, capsys):
    setup.pending_run("run-1", tag="span-1")
    assert setup.cli(capsys, "reject", "run-1", "--by", "cy", "--reason", "no")[0] == 0
    new_model = setup.pending_run("run-2", tag="span-2")  # new data -> new files -> new fingerprint
    code, out, err = setup.cli(capsys, "approve", "run-2", "--by", "ana", "--reason", "new span fine")
    assert code == 0, err
    assert f"model {new_model} (" in out and versions(setup) == ["1"]
    [push] = audit.records(setup.store(), pipeline="demo", kinds=[audit.PUSH])
    assert push.model_id == new_model and push.model_fingerprint.startswith("sha256:")


def test_reopen_by_model_id_and_its_refusals(setup, capsys):
    model_id = setup.pending_run("run-1")
    code, _, err = setup.cli(capsys, "reopen", "--model", str(model_id), "--by", "dee", "--reason", "r")
    assert code == 2 and f"model {model_id} (" in err and "has no standing rejection at staging, production" in err
    assert setup.cli(capsys, "reject", "run-1", "--by", "cy", "--reason", "no")[0] == 0
    code, out, err = setup.cli(capsys, "reopen", "--model", str(model_id), "--by", "dee", "--reason", "r")
    assert code == 0, err
    assert "for production by dee: it can be approved again" in out
    code, _, err = setup.cli(capsys, "reopen", "run-1", "--model", str(model_id), "--by", "dee", "--reason", "r")
    assert code == 2 and "reopen: name a run, or a model with --model ID (not both)" in err
    code, _, err = setup.cli(capsys, "reopen", "--model", "999", "--by", "dee", "--reason", "r")
    assert code == 2 and "no Model artifact 999 in the store of pipeline 'demo'" in err


def test_approving_an_older_model_over_a_newer_one_is_refused_unless_allow_older(setup, capsys):
    old = setup.pending_run("run-1", tag="span-1")
    new = setup.pending_run("run-3", tag="span-3")
    assert setup.cli(capsys, "approve", "run-3", "--by", "ana", "--reason", "span 3")[0] == 0
    production = setup.serving / "production"

    # run-1's pending decision is superseded: the pending list and history say so.
    code, _, err = setup.cli(capsys, "approve", "run-9", "--by", "ana", "--reason", "x")
    assert code == 2 and "runs waiting for approval: run-1 (production, superseded: model " in err
    rows = json.loads(setup.cli(capsys, "history", "demo", "--json")[1])
    [pending] = [r for r in rows if r["kind"] == "pending"]
    assert pending["run_id"] == "run-1" and pending["model_id"] == old
    assert pending["state"].startswith(f"superseded: model {new} (") and "pushed as version 1 at " in pending["state"]
    text = setup.cli(capsys, "history", "demo")[1]
    assert "run run-1: superseded: model" in text

    code, _, err = setup.cli(capsys, "approve", "run-1", "--by", "bo", "--reason", "rollback by approve")
    assert code == 2
    assert f"tfxgate: model {old} (" in err and f") is older than model {new} (" in err
    assert "which production serves as version 1 (pushed by ana at " in err
    assert "approving it would downgrade production; pass --allow-older to do so on purpose" in err
    assert versions(setup) == ["1"] and os.readlink(production / "current") == "1"

    code, out, err = setup.cli(
        capsys, "approve", "run-1", "--by", "bo", "--reason", "span 3 is broken", "--allow-older"
    )
    assert code == 0, err
    assert versions(setup) == ["1", "2"] and os.readlink(production / "current") == "2"
    assert (production / "2" / "saved_model.pb").read_text() == "graph span-1"
    records = audit.records(setup.store(), pipeline="demo", kinds=[audit.APPROVAL, audit.PUSH])
    approval, push = records[-2:]
    for record in (approval, push):
        assert record.model_id == old and record.by == "bo"
        assert record.reason.startswith("span 3 is broken [--allow-older: replaces newer model ")
        assert record.reason.endswith(", version 1]")
    # The newer model is still version 1: approving it again points at rollback, not at a copy.
    code, _, err = setup.cli(capsys, "approve", "run-3", "--by", "ana", "--reason", "back")
    assert code == 2 and "pushed as version 1 (run run-3); to serve it again: tfxgate rollback --to 1" in err


def trained_on_span(setup: Setup, run_id: str, *, span: int) -> int:
    """A model trained on one span, with its lineage as TFX records it (Examples -> Trainer -> Model), left pending."""
    import time

    from ml_metadata.proto import metadata_store_pb2 as pb

    time.sleep(0.01)  # a later model has a later create time (ms), not only a larger id
    model_id = setup.pending_run(run_id, tag=f"{run_id} on span {span}")
    store = setup.store()
    examples_type = pb.ArtifactType(name="Examples")
    examples_type.properties["span"] = pb.INT
    examples = pb.Artifact(type_id=store.put_artifact_type(examples_type), uri=str(setup.tmp / f"examples-{span}"))
    examples.properties["span"].int_value = span
    trainer = pb.Execution(
        type_id=store.put_execution_type(pb.ExecutionType(name="tfx.components.trainer.component.Trainer")),
        last_known_state=pb.Execution.COMPLETE,
    )
    [model] = store.get_artifacts_by_id([model_id])
    contexts = [store.get_context_by_type_and_name(t, n) for t, n in (("pipeline", "demo"), ("pipeline_run", run_id))]
    links = [(examples, pb.Event(type=pb.Event.INPUT)), (model, pb.Event(type=pb.Event.OUTPUT))]
    store.put_execution(trainer, links, contexts)
    return model_id


def test_older_means_trained_earlier_not_trained_on_an_earlier_span(setup, capsys):
    """A backfill retrained today on span 1 is newer than last week's span-3 model; a model trained before both,
    on span 7, is the oldest. (A span rule would refuse the backfill and let the span-7 model downgrade.)"""
    stale = trained_on_span(setup, "run-x", span=7)
    trained_on_span(setup, "run-a", span=3)
    backfill = trained_on_span(setup, "run-b", span=1)
    store = setup.store()
    spans = {e.properties["span"].int_value for e in store.get_artifacts_by_type("Examples")}
    assert spans == {1, 3, 7}
    assert setup.cli(capsys, "approve", "run-a", "--by", "ana", "--reason", "span 3")[0] == 0

    rows = json.loads(setup.cli(capsys, "history", "demo", "--json")[1])
    states = {r["run_id"]: r["state"] for r in rows if r["kind"] == "pending"}
    assert states["run-b"] == "waiting"  # trained after the span-3 model: not superseded by it
    assert states["run-x"].startswith("superseded: model ")

    code, out, err = setup.cli(capsys, "approve", "run-b", "--by", "bo", "--reason", "span 1 corrected")
    assert code == 0, err
    assert versions(setup) == ["1", "2"] and os.readlink(setup.serving / "production" / "current") == "2"
    [push] = [r for r in audit.records(setup.store(), pipeline="demo", kinds=[audit.PUSH]) if r.version == "2"]
    assert (push.model_id, push.reason) == (backfill, "span 1 corrected")  # no --allow-older needed, none noted

    code, _, err = setup.cli(capsys, "approve", "run-x", "--by", "cy", "--reason", "span 7 is the newest data")
    assert code == 2
    assert f"tfxgate: model {stale} (" in err and f") is older than model {backfill} (" in err
    assert "which production serves as version 2 (pushed by bo at " in err
    [when_stale, when_backfill] = re.findall(r"\(trained at (\S+), before (\S+)\)", err)[0]
    assert when_stale < when_backfill and when_stale.endswith("+00:00")
    assert versions(setup) == ["1", "2"]


def test_a_pending_run_stays_waiting_when_an_older_model_is_pushed(setup, capsys):
    """Only a newer model supersedes a pending decision."""
    setup.pending_run("run-1", tag="span-1")
    setup.pending_run("run-2", tag="span-2")
    assert setup.cli(capsys, "approve", "run-1", "--by", "ana", "--reason", "first")[0] == 0
    rows = json.loads(setup.cli(capsys, "history", "demo", "--json")[1])
    [pending] = [r for r in rows if r["kind"] == "pending"]
    assert (pending["run_id"], pending["state"]) == ("run-2", "waiting")
    assert setup.cli(capsys, "approve", "run-2", "--by", "ana", "--reason", "newer")[0] == 0
    rows = json.loads(setup.cli(capsys, "history", "demo", "--json")[1])
    assert [r["kind"] for r in rows] == ["push", "push"]


def test_the_same_model_is_never_approved_twice_at_one_destination(setup, capsys):
    model_id = setup.pending_run("run-1")
    assert setup.cli(capsys, "approve", "run-1", "--by", "ana", "--reason", "ok")[0] == 0
    setup.pending("run-2", model_id)
    code, _, err = setup.cli(capsys, "approve", "run-2", "--by", "bo", "--reason", "again")
    assert code == 2 and f"tfxgate: run run-2: model {model_id} (" in err
    assert "is already approved for production by ana at " in err and "pushed as version 1 (run run-1)" in err
    assert versions(setup) == ["1"]


def test_history_answers_while_a_run_holds_the_store(setup, capsys):
    """`history` repairs (recovery) only when nobody is writing; while a run holds the store it still answers."""
    from tfxgate.storage import file_lock

    setup.pending_run("run-1")
    with file_lock(setup.root / "metadata.sqlite.lock"):
        code, out, err = setup.cli(capsys, "history", "demo", "--json")
    assert code == 0, err
    assert [(r["kind"], r["run_id"], r["state"]) for r in json.loads(out)] == [("pending", "run-1", "waiting")]
