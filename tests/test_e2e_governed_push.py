"""End to end: GovernedPush in the taxi pipeline (staging auto, production manual), then the CLI verbs.

The session's taxi run (tests/conftest.py) pushed to staging and left production
pending; tests that approve or reject work on a private copy of its root.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import TAXI_CONFIG, run_cli
from tests.test_e2e_taxi import executions_per_node, metadata_store, pushed_versions

pytestmark = pytest.mark.e2e


def verb(root: Path, sample: Path, *args: str):
    """`tfxgate VERB ... -c configs/taxi.yaml` with the overrides the e2e run used."""
    sets = [
        "--set",
        f"data.path={sample}",
        "--set",
        f"pipeline.root={root}",
        "--set",
        f"stages.push.root={root / 'serving'}",
    ]
    return run_cli(*args, "-c", str(TAXI_CONFIG), *sets, root=root)


def test_first_run_pushes_to_staging_and_leaves_production_pending(taxi_runs):
    out = taxi_runs.first.stdout
    serving = taxi_runs.root / "serving"
    assert pushed_versions(serving) == ["1"]
    assert os.readlink(serving / "staging" / "current") == "1"
    assert (serving / "staging" / "1" / "saved_model.pb").exists()
    assert pushed_versions(serving, "production") == []
    assert "gates: ingestion passed, validation passed, drift passed, evaluation passed" in out
    [first, _] = taxi_runs.first.summaries()
    assert f"tfxgate approve {first['run_id']} -c {TAXI_CONFIG}" in out and "PENDING APPROVAL" in out
    actions = {d["destination"]: d["action"] for d in first["destinations"]}
    assert actions == {"staging": "push", "production": "pending"}


def test_audit_records_in_mlmd_link_the_model(taxi_runs):
    from tfxgate.mlmd import audit

    [first, _] = taxi_runs.first.summaries()
    store = metadata_store(taxi_runs.root)
    records = audit.records(store, pipeline="taxi")
    kinds = {(r.kind, r.destination) for r in records}
    assert kinds == {(audit.PUSH, "staging"), (audit.PENDING, "production")}
    [model] = [a for a in store.get_artifacts_by_type("Model") if a.uri == first["model_uri"]]
    assert {r.model_id for r in records} == {model.id}
    assert {r.run_id for r in records} == {first["run_id"]}
    push = next(r for r in records if r.kind == audit.PUSH)
    assert push.by == audit.AUTO and push.version == "1" and '"evaluation": {"passed": true' in push.gates
    # The Push's PushedModel is the GovernedPush execution's own output.
    [governed] = executions_per_node(store, first["run_id"])["GovernedPush"]
    outputs = {e.artifact_id for e in store.get_events_by_execution_ids([governed.id]) if e.type == e.OUTPUT}
    assert push.pushed_model_id in outputs
    [run_context] = [c for c in store.get_contexts_by_type("pipeline_run") if c.name == first["run_id"]]
    assert push.id in {e.id for e in store.get_executions_by_context(run_context.id)}


def test_approve_pushes_the_pending_model_and_history_lists_it(taxi_runs, copied_root, sample_csv):
    [first, rerun] = taxi_runs.rerun.summaries()
    no_pending = verb(copied_root, sample_csv, "approve", rerun["run_id"], "--by", "ana", "--reason", "ok")
    assert no_pending.returncode == 2
    assert f"run {rerun['run_id']} has no model pending approval" in no_pending.stderr
    assert f"runs waiting for approval: {first['run_id']} (production)" in no_pending.stderr

    approved = verb(copied_root, sample_csv, "approve", first["run_id"], "--by", "ana", "--reason", "AUC ok on slices")
    assert approved.returncode == 0, approved.stderr
    production = copied_root / "serving" / "production"
    assert "pushed version 1" in approved.stdout
    assert pushed_versions(copied_root / "serving", "production") == ["1"]
    assert os.readlink(production / "current") == "1"
    assert (production / "1" / "saved_model.pb").exists()

    again = verb(copied_root, sample_csv, "approve", first["run_id"], "--by", "bo", "--reason", "twice")
    assert again.returncode == 2
    assert f"run {first['run_id']}: model " in again.stderr
    assert "is already approved for production by ana" in again.stderr
    late = verb(copied_root, sample_csv, "reject", first["run_id"], "--by", "bo", "--reason", "late")
    assert late.returncode == 2 and "already approved" in late.stderr

    history = verb(copied_root, sample_csv, "history", "taxi")
    assert history.returncode == 0, history.stderr
    assert "production" in history.stdout and "ana" in history.stdout and "AUC ok on slices" in history.stdout
    assert "evaluation ok" in history.stdout and "policy:auto" in history.stdout

    # The version carries its model card, written before the rename, naming the approver and the data.
    card = (production / "1" / "model_card.md").read_text()
    assert "ana" in card and "AUC ok on slices" in card and "span 0" in card
    assert "<script" not in (production / "1" / "model_card.html").read_text()
    # lineage: from the production version back to the data span, with who approved it.
    sets = ["--set", f"data.path={sample_csv}", "--set", f"stages.push.root={copied_root / 'serving'}"]
    tree = run_cli(
        "lineage",
        str(TAXI_CONFIG),
        "1",
        "--destination",
        "production",
        "--root",
        str(copied_root),
        *sets,
        root=copied_root,
    )
    assert tree.returncode == 0, tree.stderr
    assert "pushed as version 1 (production)" in tree.stdout and "span 0" in tree.stdout
    assert "approval by ana" in tree.stdout and "'AUC ok on slices' (production)" in tree.stdout

    # The approved push is a pushed model for SliceEval's baseline resolver.
    from tfxgate.components.slice_eval.baseline import pushed_model_ids

    store = metadata_store(copied_root)
    [model] = [a for a in store.get_artifacts_by_type("Model") if a.uri == first["model_uri"]]
    assert model.id in pushed_model_ids(store)


def test_reject_leaves_production_empty_and_blocks_approval(taxi_runs, copied_root, sample_csv):
    [first, _] = taxi_runs.first.summaries()
    rejected = verb(copied_root, sample_csv, "reject", first["run_id"], "--by", "cy", "--reason", "bias review")
    assert rejected.returncode == 0, rejected.stderr
    approve = verb(copied_root, sample_csv, "approve", first["run_id"], "--by", "ana", "--reason", "ok")
    assert approve.returncode == 2
    assert f"run {first['run_id']}: model " in approve.stderr and "was rejected for production by cy" in approve.stderr
    assert pushed_versions(copied_root / "serving", "production") == []
