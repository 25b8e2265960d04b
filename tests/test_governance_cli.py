"""`tfxgate approve / reject / rollback / history` on a real ML Metadata store, without running a pipeline.

The store holds what a pipeline run leaves behind for a manual destination: a
Model artifact and a tfxgate.PendingApproval linked to it (tfxgate/mlmd/audit.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_config import MINIMAL, write_config
from tfxgate.cli.main import main
from tfxgate.governance.fingerprint import model_fingerprint as fingerprint
from tfxgate.governance.gates import GateResult, to_json
from tfxgate.mlmd import audit

PASSED = to_json([GateResult(g, True, "ok") for g in ("ingestion", "validation", "drift", "evaluation")])


class Setup:
    def __init__(self, tmp_path: Path):
        text = MINIMAL.replace(
            "  push:\n    root: serving\n",
            "  push:\n    root: serving\n    destinations:\n"
            "      staging: {path: staging}\n"
            "      production: {path: production, approval: manual}\n",
        )
        self.config = write_config(tmp_path, text)
        self.root = tmp_path / "out"
        self.serving = tmp_path / "serving"
        self.tmp = tmp_path
        self.root.mkdir()

    def store(self):
        import ml_metadata as mlmd
        from ml_metadata.proto import metadata_store_pb2

        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = str(self.root / "metadata.sqlite")
        return mlmd.MetadataStore(config)

    def pending_run(self, run_id: str, *, tag: str = "m") -> int:
        """A trained model and its PendingApproval for production, as a run leaves them."""
        from ml_metadata.proto import metadata_store_pb2

        store = self.store()
        model_dir = self.tmp / "models" / run_id / "Format-Serving"
        (model_dir / "variables").mkdir(parents=True)
        (model_dir / "saved_model.pb").write_text(f"graph {tag}")
        model_type = store.put_artifact_type(metadata_store_pb2.ArtifactType(name="Model"))
        [model_id] = store.put_artifacts([metadata_store_pb2.Artifact(type_id=model_type, uri=str(model_dir.parent))])
        self.pending(run_id, model_id)
        return model_id

    def pending(self, run_id: str, model_id: int) -> None:
        """A PendingApproval for production of run `run_id` on an existing Model (e.g. a cached rerun's)."""
        from ml_metadata.proto import metadata_store_pb2

        store = self.store()
        for type_name, name in (("pipeline", "demo"), ("pipeline_run", run_id)):
            type_id = store.put_context_type(metadata_store_pb2.ContextType(name=type_name))
            if store.get_context_by_type_and_name(type_name, name) is None:
                store.put_contexts([metadata_store_pb2.Context(type_id=type_id, name=name)])
        audit.record(
            store,
            audit.PENDING,
            pipeline="demo",
            run_id=run_id,
            destination="production",
            by="policy:manual",
            reason="waiting",
            gates=PASSED,
            model_id=model_id,
        )

    def cli(self, capsys, *args: str) -> tuple[int, str, str]:
        code = main([*args, "-c", str(self.config)])
        out = capsys.readouterr()
        return code, out.out, out.err


@pytest.fixture
def setup(tmp_path) -> Setup:
    return Setup(tmp_path)


def test_approve_pushes_that_exact_model_and_records_who_and_why(setup, capsys):
    model_id = setup.pending_run("run-1")
    code, out, err = setup.cli(capsys, "approve", "run-1", "--by", "ana", "--reason", "slices fine")
    assert code == 0, err
    production = setup.serving / "production"
    assert out.strip() == (
        f"tfxgate: approved run run-1, model {model_id} ({fingerprint(production / '1')[7:19]}), for production "
        f"by ana; pushed version 1 -> {production / '1'} (now current)"
    )
    assert (production / "1" / "saved_model.pb").read_text() == "graph m"
    assert os.readlink(production / "current") == "1"
    records = audit.records(setup.store(), pipeline="demo")
    assert [(r.kind, r.by, r.reason, r.model_id) for r in records] == [
        (audit.PENDING, "policy:manual", "waiting", model_id),
        (audit.APPROVAL, "ana", "slices fine", model_id),
        (audit.PUSH, "ana", "slices fine", model_id),
    ]
    push = records[-1]
    [pushed] = setup.store().get_artifacts_by_id([push.pushed_model_id])
    assert pushed.custom_properties["pushed"].int_value == 1
    assert pushed.custom_properties["pushed_version"].string_value == "1"
    assert pushed.custom_properties["destination_name"].string_value == "production"
    assert push.gates == PASSED and push.at.endswith("+00:00")
    # ... and SliceEval's baseline resolver now sees it as the pushed model.
    from tfxgate.components.slice_eval.baseline import pushed_model_ids

    assert pushed_model_ids(setup.store()) == {model_id}


def test_approving_twice_is_refused(setup, capsys):
    setup.pending_run("run-1")
    assert setup.cli(capsys, "approve", "run-1", "--by", "ana", "--reason", "ok")[0] == 0
    code, _, err = setup.cli(capsys, "approve", "run-1", "--by", "bo", "--reason", "again")
    assert code == 2
    assert "tfxgate: run run-1: model 1 (" in err and ") is already approved for production by ana at " in err
    assert "and pushed as version 1 (run run-1)" in err
    assert sorted(p.name for p in (setup.serving / "production").iterdir() if p.name.isdigit()) == ["1"]


def test_approving_a_run_without_pending_model_is_refused(setup, capsys):
    setup.pending_run("run-1")
    code, _, err = setup.cli(capsys, "approve", "run-9", "--by", "ana", "--reason", "ok")
    assert code == 2
    assert err.strip() == (
        "tfxgate: cannot approve: run run-9 has no model pending approval "
        "(runs waiting for approval: run-1 (production))"
    )
    assert not (setup.serving / "production").exists()


def test_unknown_destination_is_refused(setup, capsys):
    setup.pending_run("run-1")
    code, _, err = setup.cli(capsys, "approve", "run-1", "--by", "a", "--reason", "r", "--destination", "staging")
    assert code == 2 and "has no model pending approval for destination 'staging'" in err


def test_reject_then_approve_is_refused_and_nothing_is_pushed(setup, capsys):
    model_id = setup.pending_run("run-1")
    code, out, _ = setup.cli(capsys, "reject", "run-1", "--by", "cy", "--reason", "bias review")
    assert code == 0 and out.startswith(f"tfxgate: rejected run run-1, model {model_id} (")
    assert out.strip().endswith(", for production by cy; nothing pushed, and no later run of this model will be")
    code, _, err = setup.cli(capsys, "approve", "run-1", "--by", "ana", "--reason", "ok")
    assert code == 2
    assert "tfxgate: run run-1: model 1 (" in err and ") was rejected for production by cy at " in err
    assert "('bias review', in run run-1): it cannot be approved unless the rejection is lifted: " in err
    assert f"tfxgate reopen run-1 -c {setup.config} --by NAME --reason TEXT --destination production" in err
    code, _, err = setup.cli(capsys, "reject", "run-1", "--by", "cy", "--reason", "again")
    assert code == 2 and "run run-1: model 1 (" in err and ") is already rejected for production by cy" in err
    assert not (setup.serving / "production").exists()
    [rejection] = audit.records(setup.store(), pipeline="demo", kinds=[audit.REJECTION])
    assert rejection.model_id == model_id and rejection.reason == "bias review"


def test_approve_needs_by_and_reason(setup, capsys):
    setup.pending_run("run-1")
    code, _, err = setup.cli(capsys, "approve", "run-1", "--by", " ", "--reason", "ok")
    assert code == 2 and err.strip() == "tfxgate: --by must name the person deciding"
    with pytest.raises(SystemExit) as usage:
        main(["approve", "run-1", "-c", str(setup.config), "--by", "ana"])
    assert usage.value.code == 2 and "--reason" in capsys.readouterr().err


def test_credentials_variable_must_be_set_but_is_never_printed(setup, capsys, monkeypatch):
    text = setup.config.read_text().replace("approval: manual}", "approval: manual, credentials_env: GP_TEST_TOKEN}")
    setup.config.write_text(text)
    setup.pending_run("run-1")
    monkeypatch.delenv("GP_TEST_TOKEN", raising=False)
    code, _, err = setup.cli(capsys, "approve", "run-1", "--by", "ana", "--reason", "ok")
    assert code == 2
    assert "stages.push.destinations.production.credentials_env: environment variable GP_TEST_TOKEN is not set" in err
    monkeypatch.setenv("GP_TEST_TOKEN", "s3cr3t-value")
    code, _, err = setup.cli(capsys, "approve", "run-1", "--by", "ana", "--reason", "ok")
    assert code == 0, err
    assert b"s3cr3t-value" not in (setup.root / "metadata.sqlite").read_bytes()


def test_rollback_switches_current_back_and_history_shows_everything(setup, capsys):
    first = setup.pending_run("run-1", tag="one")
    setup.pending_run("run-2", tag="two")
    assert setup.cli(capsys, "approve", "run-1", "--by", "ana", "--reason", "first")[0] == 0
    assert setup.cli(capsys, "approve", "run-2", "--by", "bo", "--reason", "second")[0] == 0
    production = setup.serving / "production"
    assert os.readlink(production / "current") == "2"

    code, out, err = setup.cli(capsys, "rollback", "demo", "--to", "1", "--by", "cy", "--reason", "latency")
    assert code == 0, err
    assert out.strip() == "tfxgate: production now serves version 1 (was 2), rolled back by cy"
    assert os.readlink(production / "current") == "1"
    [rollback] = audit.records(setup.store(), pipeline="demo", kinds=[audit.ROLLBACK])
    assert (rollback.version, rollback.previous_version, rollback.model_id, rollback.run_id) == (
        "1",
        "2",
        first,
        "run-1",
    )

    code, _, err = setup.cli(capsys, "rollback", "demo", "--to", "1", "--by", "cy", "--reason", "again")
    assert code == 2 and err.strip() == "tfxgate: production already serves version 1: nothing to roll back"
    code, _, err = setup.cli(capsys, "rollback", "demo", "--to", "7", "--by", "cy", "--reason", "r")
    assert code == 2
    assert err.strip() == (
        "tfxgate: pipeline 'demo' has no version 7 to roll back to (versions: staging: none; production: 1, 2)"
    )

    code, out, err = setup.cli(capsys, "history", "demo")
    assert code == 0, err
    lines = out.splitlines()
    pushes = [line for line in lines if " push " in line]
    assert len(pushes) == 2 and pushes[0].startswith("* ") and pushes[1].startswith("  ")
    assert "ana" in pushes[0] and "bo" in pushes[1] and "rollback  production   1" in out
    assert "reason: latency" in out and "gates: ingestion ok, validation ok, drift ok, evaluation ok" in out

    code, out, _ = setup.cli(capsys, "history", "demo", "--json")
    import json

    rows = json.loads(out)
    assert [(r["kind"], r["version"], r["by"], r["current"]) for r in rows] == [
        ("push", "1", "ana", True),
        ("push", "2", "bo", False),
        ("rollback", "1", "cy", False),
    ]


def test_history_of_another_pipeline_is_refused(setup, capsys):
    setup.pending_run("run-1")
    code, _, err = setup.cli(capsys, "history", "taxi")
    assert code == 2 and f"{setup.config} configures pipeline 'demo', not 'taxi'" in err


def test_verbs_before_any_run_say_so(setup, capsys):
    code, _, err = setup.cli(capsys, "approve", "run-1", "--by", "a", "--reason", "r")
    assert code == 2 and "pipeline 'demo' has no ML Metadata at" in err and "run it first" in err
    code, out, _ = setup.cli(capsys, "history", "demo")
    assert code == 0 and out.strip() == "no pushes yet"


def test_the_installed_command_exits_2_on_a_refusal(setup):
    setup.pending_run("run-1")
    result = run_cli("approve", "nope", "-c", str(setup.config), "--by", "a", "--reason", "r", root=setup.tmp)
    assert result.returncode == 2 and "has no model pending approval" in result.stderr


def test_pipeline_verbs_take_the_config_file_as_pipeline(setup, capsys):
    """`history PIPELINE` / `rollback PIPELINE` without -c: PIPELINE may be the YAML itself."""
    setup.pending_run("run-1")
    assert setup.cli(capsys, "approve", "run-1", "--by", "ana", "--reason", "ok")[0] == 0
    code = main(["history", str(setup.config), "--json"])
    out = capsys.readouterr().out
    assert code == 0 and [r["by"] for r in json.loads(out)] == ["ana"]


def test_approve_takes_the_run_id_as_its_summary_file_spells_it(setup, capsys):
    """<root>/summaries/<run id>.json writes ':' as '-'; a user copying the file name is understood."""
    setup.pending_run("2026-11-25T20:09:38.394603")
    code, out, err = setup.cli(capsys, "approve", "2026-11-25T20-09-38.394603", "--by", "ana", "--reason", "ok")
    assert code == 0, err
    assert "approved run 2026-11-25T20:09:38.394603, model " in out and ", for production by ana" in out


def test_history_rebuilds_versions_a_run_elsewhere_published_without_a_store(setup, capsys):
    """A Kubeflow task publishes the version and its manifest but reaches no ML Metadata here."""
    from tfxgate.governance import push_records

    model = setup.tmp / "kfp" / "model" / "Format-Serving"
    model.mkdir(parents=True)
    (model / "saved_model.pb").write_text("graph")
    manifest = push_records.manifest(
        fingerprint="sha256:abc",
        model_id=7,
        model_uri=str(model.parent),
        pipeline="demo",
        run_id="demo-kfp-run-1",
        gates=PASSED,
        destination="staging",
    )
    push_records.publish_and_record(model, setup.serving / "staging", root=setup.serving, manifest=manifest)
    assert not (setup.root / "metadata.sqlite").exists()
    code, out, _ = setup.cli(capsys, "history", "demo", "--json")
    assert code == 0
    [row] = json.loads(out)
    assert (row["kind"], row["destination"], row["version"], row["run_id"], row["current"]) == (
        "push",
        "staging",
        "1",
        "demo-kfp-run-1",
        True,
    )
    [record] = audit.records(setup.store(), pipeline="demo", kinds=[audit.PUSH])
    assert record.recovered == "1" and record.model_fingerprint == "sha256:abc"
    # The record a local run's GovernedPush writes as it pushes, for the same manifest: the same shape.
    import ml_metadata as mlmd
    from ml_metadata.proto import metadata_store_pb2

    connection = metadata_store_pb2.ConnectionConfig()
    connection.sqlite.filename_uri = str(setup.tmp / "local.sqlite")
    local_store = mlmd.MetadataStore(connection)
    local_push = {**manifest, "run_id": "demo-local-run"}
    push_records.publish_and_record(
        model,
        setup.tmp / "local-serving" / "staging",
        root=setup.tmp / "local-serving",
        manifest=local_push,
        store=local_store,
        with_pushed_model=True,
    )
    [local] = audit.records(local_store, pipeline="demo", kinds=[audit.PUSH])

    def filled(r):
        return {key for key, value in dataclasses.asdict(r).items() if value not in ("", None)}

    assert filled(record) - {"recovered", "id"} == filled(local) - {"id"}


@pytest.mark.parametrize("text", ['{"decision": "pending", "run_id": "demo-kfp-run-2"', '["pending"]', "{}"])
def test_a_broken_pending_file_is_named_and_nothing_is_decided_or_pushed(setup, capsys, text):
    """A pending decision's file in the push root that is not one (cut short, edited by hand) may be the only
    record of a model waiting for approval: approve refuses (exit 2) naming it, without a traceback."""
    setup.pending_run("demo-run-1")
    broken = setup.serving / ".pending" / "demo" / "production" / "demo-kfp-run-2.json"
    broken.parent.mkdir(parents=True)
    broken.write_text(text)
    args = ("approve", "demo-run-1", "--destination", "production", "--by", "ana", "--reason", "ok")
    code, _, err = setup.cli(capsys, *args)
    assert code == 2, err
    assert f"tfxgate: {broken}: not a pending decision" in err and "nothing was decided" in err
    assert "move it away or restore it" in err
    assert not (setup.serving / "production").exists()
    assert audit.records(setup.store(), pipeline="demo", kinds=[audit.APPROVAL]) == []
    broken.unlink()
    code, _, err = setup.cli(capsys, *args)
    assert code == 0, err
    assert (setup.serving / "production" / "1").is_dir()


def test_a_run_stops_before_any_stage_on_a_broken_pending_file(setup, capsys):
    """`tfxgate run` repairs the push root first (recovery); a pending file it cannot read stops it with exit 2,
    naming the file, before any stage runs."""
    broken = setup.serving / ".pending" / "demo" / "production" / "demo-kfp-run-2.json"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"decision": "pending"')
    code = main(["run", str(setup.config)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"tfxgate: {broken}: not a pending decision's JSON" in err and "nothing ran" in err
    assert "Traceback" not in err and "move it away or restore it" in err
    assert audit.records(setup.store(), pipeline="demo", kinds=[audit.PENDING, audit.PUSH]) == []
    assert not (setup.root / "artifacts").exists() and not (setup.serving / "staging").exists()
