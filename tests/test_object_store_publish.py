"""Publishing on object stores, against real servers on loopback: a GCS emulator (gs://) and moto (s3://).

The protocol (tfxgate/governance/publish.py, README "Publishing on object
stores"): upload to a hidden prefix, copy to `<version>/`, write the manifest
last as the commit marker, then `current`. A push killed at any of its
failpoints (a real SIGKILL, in a subprocess: tests/crash_push_driver.py) leaves
no version that `versions`, `history` or recovery accepts, and the retry
publishes exactly one.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.crash_push_driver import SERVING_ENV, check_invariants, drive, make_model, target
from tfxgate.governance import fingerprint, publish
from tfxgate.storage import failpoints, filesystem

SERVERS = ["gcs_server", "s3_server"]


@pytest.fixture(params=SERVERS)
def server(request):
    return request.getfixturevalue(request.param)


def test_publish_reuse_and_switch_on_the_server(server, tmp_path):
    bucket = filesystem.location(server.new_bucket())
    staging = bucket / "serving" / "staging"
    first, second = make_model(tmp_path / "a", tag="a"), make_model(tmp_path / "b", tag="b")

    done = publish.publish(first, staging, root=bucket / "serving", manifest={"run_id": "r1"})
    assert (done.version, str(done.path), done.reused) == ("1", f"{staging}/1", False)
    assert publish.versions(staging) == ["1"] and publish.current_version(staging) == "1"
    assert filesystem.files(staging / "1") == [
        "saved_model.pb",
        "tfxgate-push.json",
        *[f"variables/variables.data-{i:05d}" for i in range(4)],
    ]
    assert fingerprint.model_fingerprint(staging / "1") == fingerprint.model_fingerprint(first)
    assert publish.read_manifest(staging / "1")["run_id"] == "r1"
    assert not any(n.startswith(publish.TEMP_PREFIX) for n in filesystem.listdir(staging))  # hidden prefix removed

    again = publish.publish(first, staging)
    assert (again.version, again.reused) == ("1", True)
    assert publish.publish(second, staging).version == "2" and publish.current_version(staging) == "2"
    assert publish.switch_current(staging, "1") == "2" and publish.current_version(staging) == "1"
    with pytest.raises(publish.PublishError, match="outside the push root"):
        publish.publish(second, bucket / "elsewhere", root=bucket / "serving")


def test_a_numbered_prefix_without_its_manifest_is_no_version(server, tmp_path):
    bucket = filesystem.location(server.new_bucket())
    staging = bucket / "staging"
    filesystem.write_text(staging / "1" / "saved_model.pb", "half a model")  # e.g. a copy by hand, or a dead push
    assert publish.versions(staging) == []
    done = publish.publish(make_model(tmp_path / "a", tag="a"), staging)
    # Not made by a push (no hidden prefix of its number): left alone, its number never reused.
    assert done.version == "2" and publish.versions(staging) == ["2"]
    assert filesystem.read_text(staging / "1" / "saved_model.pb") == "half a model"


def test_a_model_on_the_store_publishes_to_the_store_and_to_a_local_root(server, tmp_path):
    """A remote pipeline root (Kubeflow): the Model artifact's files are on the store too."""
    bucket = filesystem.location(server.new_bucket())
    local_model = make_model(tmp_path / "a", tag="a")
    model_uri = bucket / "artifacts" / "Trainer" / "model" / "7"
    for relative in filesystem.files(local_model):
        filesystem.upload_file(local_model / relative, model_uri / "Format-Serving" / relative)
    source = publish.serving_dir(str(model_uri))
    assert source == model_uri / "Format-Serving"
    assert fingerprint.model_fingerprint(source) == fingerprint.model_fingerprint(local_model)

    remote = publish.publish(source, bucket / "serving" / "staging")
    assert remote.version == "1" and fingerprint.model_fingerprint(remote.path) == fingerprint.model_fingerprint(source)
    local = publish.publish(source, tmp_path / "serving" / "staging")
    assert local.version == "1" and (local.path / "saved_model.pb").read_text() == "graph a"
    assert publish.read_manifest(local.path)["fingerprint"] == fingerprint.model_fingerprint(local_model)


def test_glob_on_the_store_matches_like_a_local_glob(server):
    bucket = server.new_bucket()
    for key in ("data/span-1/a.csv", "data/span-1/deeper/b.csv", "data/span-2/c.csv", "data/span-2/c.txt"):
        filesystem.write_text(f"{bucket}/{key}", "x")
    assert filesystem.glob(f"{bucket}/data/span-*/*.csv") == [
        f"{bucket}/data/span-1/a.csv",
        f"{bucket}/data/span-2/c.csv",
    ]
    found = filesystem.glob(f"{bucket}/data/span-?/c.*")
    assert found == [f"{bucket}/data/span-2/c.csv", f"{bucket}/data/span-2/c.txt"]
    assert filesystem.glob(f"{bucket}/data/span-1/a.csv") == [f"{bucket}/data/span-1/a.csv"]


CRASH_POINTS = [*failpoints.reached_by(failpoints.OBJECT_STORE), "publish.after_rename"]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_during_a_push_then_retry_publishes_exactly_one(server, point, tmp_path, monkeypatch):
    serving = f"{server.new_bucket()}/serving"
    monkeypatch.setenv(SERVING_ENV, serving)
    root = tmp_path / "root"
    first, second = make_model(tmp_path / "a", tag="a"), make_model(tmp_path / "b", tag="b")
    assert drive(root, first, "run-1", serving=serving).returncode == 0
    staging = filesystem.location(serving) / "staging"

    killed = drive(root, second, "run-2", serving=serving, armed=point)
    assert killed.returncode == -signal.SIGKILL, f"{point} was never reached: {killed.stdout}{killed.stderr}"
    if point != "publish.after_rename":  # before the manifest: the dead push left no version readers accept
        assert publish.versions(staging) == ["1"] and publish.current_version(staging) == "1"
        assert history_versions(root) == [("staging", "1")]
        left = filesystem.listdir(staging)
        assert any(n.startswith(publish.TEMP_PREFIX) for n in left), left  # it did die mid-way
    else:  # committed, `current` not switched: a version, recovered by the retry
        assert publish.versions(staging) == ["1", "2"] and publish.current_version(staging) == "1"

    retry = drive(root, second, "run-3", serving=serving)
    assert retry.returncode == 0, retry.stderr
    assert publish.versions(staging) == ["1", "2"] and publish.current_version(staging) == "2"
    assert sorted(filesystem.listdir(staging)) == ["1", "2", "current"]  # the dead push's leftovers are gone
    assert fingerprint.model_fingerprint(staging / "2") == fingerprint.model_fingerprint(second)
    assert sorted(history_versions(root)) == [("staging", "1"), ("staging", "2")]
    assert check_invariants(root) == []


def history_versions(root: Path) -> list[tuple[str, str]]:
    from tfxgate.governance import store as governance

    return [(row.destination, row.version) for row in governance.history(target(root), "taxi") if row.kind == "push"]


def test_a_canary_on_an_object_store(s3_server, tmp_path):
    """rollout.json is one PUT after the version's manifest; promote moves `current` and the serving configs."""
    import ml_metadata as mlmd
    from google.protobuf import text_format
    from ml_metadata.proto import metadata_store_pb2
    from tensorflow_serving.config import model_server_config_pb2

    from tfxgate.governance import rollout, rollout_state, serving_configs
    from tfxgate.governance.rollout_state import RolloutPolicy
    from tfxgate.mlmd import audit

    production = filesystem.location(s3_server.new_bucket()) / "serving" / "production"
    canary = RolloutPolicy(kind="canary", weight=20)
    publish.publish(make_model(tmp_path / "a", tag="a"), production, rollout=canary)
    publish.publish(make_model(tmp_path / "b", tag="b"), production, rollout=canary)
    state = rollout_state.read(production)
    assert (state.stable, state.candidate, state.weights) == ("1", "2", {"1": 80, "2": 20})
    assert publish.current_version(production) == "1" and publish.versions(production) == ["1", "2"]
    assert publish.read_manifest(production / "2")["rollout"]["kind"] == "canary"
    text = filesystem.read_text(production / serving_configs.FOLDER / serving_configs.TF_SERVING)
    [model] = text_format.Parse(text, model_server_config_pb2.ModelServerConfig()).model_config_list.config
    assert (model.base_path, dict(model.version_labels)) == (str(production), {"stable": 1, "canary": 2})

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(tmp_path / "metadata.sqlite")
    store = mlmd.MetadataStore(config)
    record, retried = rollout.promote(
        store, pipeline="demo", name="production", directory=production, by="bo", reason="ok"
    )
    assert (record.kind, record.version, record.previous_version, retried) == (audit.PROMOTION, "2", "1", False)
    assert publish.current_version(production) == "2" and rollout_state.read(production).candidate is None
    assert serving_configs.stale(production, rollout_state.read(production)) == []


def test_a_pending_decision_left_on_the_store_is_rebuilt_and_approved_from_there(server, tmp_path, monkeypatch):
    """A Kubeflow task's pending decision: a file beside the push root, no store; approve publishes it there."""
    import json

    from tfxgate.governance import push_records
    from tfxgate.governance import store as governance
    from tfxgate.mlmd import audit
    from tfxgate.mlmd.store import open_store

    serving = f"{server.new_bucket()}/serving"
    monkeypatch.setenv(SERVING_ENV, serving)
    root = tmp_path / "root"  # no store here yet: the run was elsewhere
    model = make_model(tmp_path / "model", tag="kfp")
    found = fingerprint.model_fingerprint(model)
    gates = json.dumps({"evaluation": {"passed": True, "detail": "blessed"}})
    pending = push_records.manifest(
        fingerprint=found,
        model_id=7,  # an id of KFP's store, not of this one
        model_uri=str(model),
        pipeline="taxi",
        run_id="taxi-run-1",
        gates=gates,
        destination="production",
        decision="pending",
        by=audit.MANUAL,
        reason=audit.PENDING_REASON,
    )
    written = push_records.write_pending(filesystem.location(serving), pending)
    assert str(written) == f"{serving}/.pending/taxi/production/taxi-run-1.json"
    governed = target(root)

    [row] = governance.history(governed, "taxi")
    assert (row.kind, row.destination, row.run_id, row.state, row.fingerprint) == (
        "pending",
        "production",
        "taxi-run-1",
        "waiting",
        found,
    )
    with pytest.raises(governance.GovernanceError, match="run taxi-run-9 has no model pending approval.*taxi-run-1"):
        governance.approve(governed, "taxi-run-9", by="ana", reason="looks good")

    done = governance.approve(governed, "taxi-run-1", by="ana", reason="looks good")
    production = filesystem.location(serving) / "production"
    assert str(done.path) == f"{serving}/production/1"
    assert publish.versions(production) == ["1"] and publish.current_version(production) == "1"
    assert fingerprint.model_fingerprint(production / "1") == found
    manifest = publish.read_manifest(production / "1")
    assert (manifest["decision"], manifest["by"], manifest["run_id"], manifest["model_uri"]) == (
        "approved",
        "ana",
        "taxi-run-1",
        str(model),
    )
    rows = [(r.kind, r.destination, r.version, r.by, r.run_id, r.current) for r in governance.history(governed, "taxi")]
    assert rows == [("push", "production", "1", "ana", "taxi-run-1", True)]
    with pytest.raises(governance.GovernanceError, match="already approved for production by ana.*version 1"):
        governance.approve(governed, "taxi-run-1", by="bo", reason="again")

    store = open_store(governed.metadata, root=root, read_only=True)
    [record] = audit.records(store, pipeline="taxi", kinds=[audit.PENDING])
    assert (record.recovered, record.at, record.model_fingerprint) == ("1", pending["at"], found)
    assert [r.by for r in audit.records(store, pipeline="taxi", kinds=[audit.APPROVAL])] == ["ana"]

    # A run that judged its model before run 1 did, whose pending file turns up only now (a slow or
    # retried task): registered now, its model still counts as trained then, so approving it is a downgrade.
    late = make_model(tmp_path / "late", tag="late")
    earlier = {**pending, "run_id": "taxi-run-0", "fingerprint": fingerprint.model_fingerprint(late)}
    earlier.update(model_uri=str(late), at="2026-01-01T00:00:00+00:00")
    push_records.write_pending(filesystem.location(serving), earlier)
    with pytest.raises(governance.GovernanceError, match=r"older than .*trained at 2026-01-01T00:00:00\.000"):
        governance.approve(governed, "taxi-run-0", by="ana", reason="late")
    done = governance.approve(governed, "taxi-run-0", by="ana", reason="late", allow_older=True)
    assert str(done.path) == f"{serving}/production/2"
