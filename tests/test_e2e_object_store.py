"""End to end on object stores: the taxi pipeline reading its data from, and pushing to, a GCS emulator; then
`tfxgate approve` pushing to production on the same server, and once more to an S3 server (moto).

Both servers are real HTTP servers on loopback (tests/object_store.py). The
pipeline root stays local so far: TFX writes artifacts through `tf.io.gfile`,
whose built-in `gs://` talks to Google's fixed endpoints only (and the lock's
modular `tensorflow-io-gcs-filesystem` plugin crashes on TF 2.16). The emulator
can now stand in for it through a loopback TLS proxy (tests/gcs_tls_proxy.py,
fixture `gcs_tf_env`; tests/test_gcs_tf_proxy.py shows gfile, SavedModel and
`fileio` on `gs://`). Next step: this run with its artifacts on `gs://`, which
first needs the local runner to keep SQLite, lock, logs and summaries apart from
a remote artifact root (`pipeline.root` is all of them: README, "Publishing on
object stores"). One run (the CI overrides of the other e2e tests) serves every
assertion.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import TAXI_CONFIG, run_cli, small_run_overrides
from tests.test_e2e_taxi import metadata_store
from tfxgate.governance import fingerprint, publish
from tfxgate.storage import filesystem

pytestmark = pytest.mark.e2e


def sets(*items: str) -> list[str]:
    return [arg for item in items for arg in ("--set", item)]


class GcsRun:
    def __init__(self, root: Path, data: str, serving: str, result):
        self.root, self.data, self.serving, self.result = root, data, serving, result

    def overrides(self, root: Path, serving: str = "") -> list[str]:
        return sets(f"data.path={self.data}", f"pipeline.root={root}", f"stages.push.root={serving or self.serving}")


@pytest.fixture(scope="module")
def gcs_run(gcs_server, sample_csv, tmp_path_factory) -> GcsRun:
    bucket = gcs_server.new_bucket("taxi")
    data = f"{bucket}/data/taxi.csv"
    filesystem.upload_file(sample_csv, data)
    root = tmp_path_factory.mktemp("gcs-e2e")
    serving = f"{bucket}/serving"
    overrides = [*small_run_overrides(sample_csv, root), f"data.path={data}", f"stages.push.root={serving}"]
    result = run_cli("run", str(TAXI_CONFIG), *sets(*overrides), root=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return GcsRun(root, data, serving, result)


def test_the_model_lands_on_gcs_with_its_manifest_and_audit_record(gcs_run):
    from tfxgate.mlmd import audit

    staging = filesystem.location(gcs_run.serving) / "staging"
    assert publish.versions(staging) == ["1"] and publish.current_version(staging) == "1"
    assert filesystem.isfile(staging / "1" / "saved_model.pb")
    manifest = publish.read_manifest(staging / "1")
    [summary] = gcs_run.result.summaries()
    assert (manifest["run_id"], manifest["version"], manifest["destination"]) == (summary["run_id"], "1", "staging")
    assert manifest["fingerprint"] == fingerprint.model_fingerprint(staging / "1")
    assert publish.versions(filesystem.location(gcs_run.serving) / "production") == []
    # Ingest read the data from the emulator: the rows of the sample, its file named by its gs:// URI.
    store = metadata_store(gcs_run.root)
    [examples] = store.get_artifacts_by_type("Examples")
    assert gcs_run.data in examples.custom_properties["input_files_sha256"].string_value
    records = audit.records(store, pipeline="taxi")
    [push] = [r for r in records if r.kind == audit.PUSH]
    assert (push.destination, push.version, push.run_id) == ("staging", "1", summary["run_id"])
    assert push.model_fingerprint == manifest["fingerprint"]
    assert audit.version_path(store, push) == f"{gcs_run.serving}/staging/1"
    assert {r.kind for r in records} == {audit.PUSH, audit.PENDING}


def test_approve_pushes_to_production_on_the_same_server(gcs_run, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(gcs_run.root, root, symlinks=True)
    [summary] = gcs_run.result.summaries()
    approved = run_cli(
        "approve", summary["run_id"], "-c", str(TAXI_CONFIG), *gcs_run.overrides(root), "--by", "ana", "--reason", "ok",
        root=root,
    )  # fmt: skip
    assert approved.returncode == 0, approved.stdout + approved.stderr
    production = filesystem.location(gcs_run.serving) / "production"
    assert publish.versions(production) == ["1"] and publish.current_version(production) == "1"
    staging = filesystem.location(gcs_run.serving) / "staging"
    assert fingerprint.model_fingerprint(production / "1") == fingerprint.model_fingerprint(staging / "1")
    assert publish.read_manifest(production / "1")["by"] == "ana"
    history = run_cli("history", "taxi", "-c", str(TAXI_CONFIG), *gcs_run.overrides(root), "--json", root=root)
    assert history.returncode == 0, history.stderr
    rows = {(r["kind"], r["destination"], r["version"], r["current"]) for r in json.loads(history.stdout)}
    assert {("push", "staging", "1", True), ("push", "production", "1", True)} <= rows


def test_approve_pushes_to_an_s3_server(gcs_run, s3_server, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(gcs_run.root, root, symlinks=True)
    serving = f"{s3_server.new_bucket('serving')}/taxi"
    [summary] = gcs_run.result.summaries()
    approved = run_cli(
        "approve", summary["run_id"], "-c", str(TAXI_CONFIG), *gcs_run.overrides(root, serving),
        "--by", "ana", "--reason", "ok", root=root,
    )  # fmt: skip
    assert approved.returncode == 0, approved.stdout + approved.stderr
    production = filesystem.location(serving) / "production"
    assert publish.versions(production) == ["1"] and publish.current_version(production) == "1"
    assert filesystem.isfile(production / "1" / "saved_model.pb")
    assert not any(n.startswith(publish.TEMP_PREFIX) for n in filesystem.listdir(production))
