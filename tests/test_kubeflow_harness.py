"""Proof that the compiled Kubeflow pipeline runs from "the image": its tasks, run from the wheel, match a local run.

There is no Docker engine here, so "the image" is what the Dockerfile installs:
the lock plus the tfxgate wheel in a fresh venv outside the checkout
(`wheel_venv`, shared with tests/test_wheel.py). That venv's `tfxgate init`
writes the taxi project and its `tfxgate compile` compiles it (data in span
folders, `data/span-{SPAN}/data.csv`); tests/kfp_local.py then executes the
spec task by task through TFX's Kubeflow V2 container entrypoint with the
venv's interpreter, from a working directory outside the checkout, and answers
the resolver tasks' queries over the artifacts of its earlier tasks and runs,
as the KFP backend answers them over ML Metadata.

The pipeline root, the data (span folders) and the push root are on a GCS
emulator (tests/object_store.py, a real HTTP server on loopback) that the tasks
reach as a cluster's tasks reach GCS: tfxgate's own filesystem layer
(google-cloud-storage) through `STORAGE_EMULATOR_HOST`, TensorFlow's built-in
`gs://` client (gfile, SavedModel, TFRecord, TFX `fileio`), which talks to
Google's fixed endpoints only, through the loopback TLS proxy of
tests/gcs_tls_proxy.py (fixture `gcs_tf_env`, its `process_env()` for the
image's environment). The compile stages the Trainer's module wheel beside the
spec and prints the copy to `<pipeline_root>/_wheels/`, which the test makes as
a user would before the first run. Artifacts are read back through tfxgate's
filesystem layer, never as local paths.

Two runs: span 1 (compared with the session's local run of the same data:
same components, outputs, splits, row counts, schema, blessing, push), then
span 2, where the previous span, the pushed model's span and the baseline model
resolve to run 1's artifacts. The push records a Kubeflow task leaves (manifest
and PushedModel properties, no ML Metadata) become, through `tfxgate history`,
records of the same shape as a local run's; its pending decision for the
manual `production` (a pending file beside the push root) becomes the
PendingApproval that `tfxgate approve`, run from the wheel venv, pushes to
`gs://.../production/1`. The push path once more on S3 (moto on loopback):
run 1's GovernedPush task alone executed again with the push root on
`s3://` (`kfp_local.rerun_task`), the rest of the pipeline is not run a third time.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import WheelVenv, dockerfile_env
from tests.kfp_local import ArtifactRecords, Image, LocalKfpRun, join, rerun_task, run_spec
from tfxgate.governance import fingerprint, publish
from tfxgate.storage import filesystem
from tfxgate.storage.filesystem import RemotePath

pytestmark = pytest.mark.e2e

TRAIN = ("stages.trainer.train_steps=60", "stages.trainer.eval_steps=10")  # as the local run (conftest)


@dataclass
class KfpRuns:
    first: LocalKfpRun
    second: LocalKfpRun
    base: Path
    config: Path
    sets: list[str]
    venv: WheelVenv
    serving: RemotePath  # gs://<bucket>/serving on the emulator
    spec: Path
    image: Image
    pipeline_root: str  # gs://<bucket>/kfp-root on the emulator
    compiled: str  # what `tfxgate compile` printed


@pytest.fixture(scope="module")
def kfp(sample_csv, wheel_venv, gcs_server, gcs_tf_env, tmp_path_factory) -> KfpRuns:
    base = tmp_path_factory.mktemp("kfp-image")
    bucket = gcs_server.new_bucket("kfp")
    pipeline_root = f"{bucket}/kfp-root"
    # A user's machine and the cluster's pods both reach GCS: tfxgate's layer directly, TF through the proxy.
    wheel_venv = dataclasses.replace(wheel_venv, env=gcs_tf_env.process_env({**wheel_venv.env, **gcs_server.env}))
    work, logs = base / "work", base / "logs"
    work.mkdir()
    logs.mkdir()
    wheel_venv.run([wheel_venv.tfxgate, "init", work / "project"], cwd=work)
    config = work / "project" / "configs" / "taxi.yaml"
    filesystem.upload_file(sample_csv, f"{bucket}/data/span-1/data.csv")
    overrides = [
        f"data.path={bucket}/data/span-{{SPAN}}/data.csv",
        f"pipeline.root={base / 'governance'}",  # where `tfxgate history` keeps its store; no run writes there
        f"stages.push.root={bucket}/serving",
        f"kubeflow.pipeline_root={pipeline_root}",
        *TRAIN,
    ]
    sets = [item for override in overrides for item in ("--set", override)]
    spec = base / "pipeline.yaml"
    compiled = wheel_venv.run([wheel_venv.tfxgate, "compile", config, "--output", spec, *sets], cwd=work).stdout
    _upload_staged_wheels(compiled)
    image = Image(python=wheel_venv.python, env={**wheel_venv.env, **dockerfile_env()}, cwd=work)
    records = ArtifactRecords()
    first = run_spec(spec, pipeline_root, run_name="taxi-run-1", image=image, records=records, log_dir=logs)
    # The same rows again as span 2: no drift (the policy blocks), every resolver has run 1 to find.
    filesystem.upload_file(sample_csv, f"{bucket}/data/span-2/data.csv")
    second = run_spec(spec, pipeline_root, run_name="taxi-run-2", image=image, records=records, log_dir=logs)
    serving = filesystem.location(f"{bucket}/serving")
    return KfpRuns(first, second, base, config, sets, wheel_venv, serving, spec, image, pipeline_root, compiled)


def _upload_staged_wheels(compiled: str) -> None:
    """Runs what `tfxgate compile` says to run before the first run (`gsutil cp <wheel> <root>/_wheels/...`)."""
    commands = [line.split(":", 1)[1].split() for line in compiled.splitlines() if "before the first run:" in line]
    assert commands, compiled
    for tool, copy, source, target in commands:
        assert (tool, copy) == ("gsutil", "cp")
        filesystem.upload_file(source, target)


@dataclass
class Decided:
    """`tfxgate history --json` before and after `tfxgate approve taxi-run-1` (from the wheel venv)."""

    before: list[dict]
    approve: object  # the approve command's CompletedProcess
    after: list[dict]


@pytest.fixture(scope="module")
def decided(kfp) -> Decided:
    before = _history(kfp)
    approve = kfp.venv.run(
        [kfp.venv.tfxgate, "approve", "taxi-run-1", "-c", kfp.config, "--by", "ana", "--reason", "kfp run 1 ok"]
        + kfp.sets,
        cwd=kfp.base / "work",
    )
    return Decided(before, approve, _history(kfp))


def _history(kfp: KfpRuns) -> list[dict]:
    command = [kfp.venv.tfxgate, "history", kfp.config, "--json", *kfp.sets]
    return json.loads(kfp.venv.run(command, cwd=kfp.base / "work").stdout)


def _local_outputs(root: Path) -> dict[str, set[str]]:
    """component -> output keys of the local run (artifacts/<component>/<key>/<execution>/)."""
    artifacts = root / "artifacts"
    return {
        c.name: {k.name for k in c.iterdir() if not k.name.startswith(".")}  # .system: the local launcher's own
        for c in artifacts.iterdir()
        if not c.name.startswith("_")  # _wheels
    }


def _first(path: Path) -> Path:
    """The first run's execution directory under a local artifact folder."""
    return min(path.iterdir(), key=lambda p: int(p.name))


def _record_counts(examples_uri, folder: Path) -> dict[str, int]:
    """Records per split of an Examples artifact (local or on a store: copied into `folder` first)."""
    import tensorflow as tf

    local = filesystem.download_tree(examples_uri, folder) if filesystem.is_remote(examples_uri) else Path(examples_uri)
    counts = {}
    for split in sorted(local.glob("Split-*")):
        files = [str(f) for f in split.glob("*.gz")]
        counts[split.name] = sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP"))
    return counts


def test_every_local_component_ran_as_a_task_with_the_same_outputs(kfp, taxi_runs):
    run = kfp.first
    local = _local_outputs(taxi_runs.root)
    for component, keys in local.items():
        assert component in run.outputs, f"{component} ran locally but is no task of the compiled spec"
        produced = {key for key, artifacts in run.outputs[component].items() if artifacts}
        assert produced == keys, component
        for key in keys:
            # Outputs the executor leaves empty (e.g. Trainer.model_run) have no directory on either side.
            if any(_first(taxi_runs.root / "artifacts" / component / key).iterdir()):
                uri = run.artifact(component, key)["uri"]
                assert uri.startswith(f"{kfp.pipeline_root}/taxi-run-1/{component}/")
                assert filesystem.files(uri), f"{component}.{key} wrote nothing"


def test_tasks_ran_from_the_wheel_never_from_the_checkout(kfp):
    from tests.conftest import REPO

    for log in (kfp.base / "logs").glob("taxi-run-1-*.log"):
        assert str(REPO) not in log.read_text(), f"{log.name} names the checkout"
    trainer = json.dumps(kfp.first.outputs["Trainer"])
    assert str(REPO) not in trainer


def test_the_pipeline_root_is_on_the_emulator_with_the_uploaded_trainer_wheel(kfp, gcs_tf_env):
    [wheel] = filesystem.listdir(join(kfp.pipeline_root, "_wheels"))
    assert wheel.endswith(".whl") and f"{kfp.pipeline_root}/_wheels/{wheel}" in kfp.compiled  # compile said so
    assert f"@{kfp.pipeline_root}/_wheels/{wheel}" in kfp.spec.read_text()  # the Trainer's module path
    assert {"_wheels", "taxi-run-1", "taxi-run-2"} <= set(filesystem.listdir(kfp.pipeline_root))
    assert not (kfp.base / "work" / "gs:").exists()  # no task wrote a gs:// path as a local one
    assert gcs_tf_env.failures == []  # TF's gs:// met no emulator gap


def test_same_splits_row_counts_and_schema(kfp, taxi_runs, sample_csv, tmp_path):
    run = kfp.first
    local = taxi_runs.root / "artifacts"
    examples = run.artifact("Ingest", "examples")
    assert json.loads(examples["metadata"]["split_names"]) == ["train", "eval"]
    assert examples["metadata"]["span"] == 1
    kfp_counts = _record_counts(examples["uri"], tmp_path / "examples")
    assert kfp_counts == _record_counts(_first(local / "Ingest" / "examples"), tmp_path)
    assert sum(kfp_counts.values()) == len(sample_csv.read_text().splitlines()) - 1
    kfp_schema = join(run.artifact("ImportSchemaGen", "schema")["uri"], "schema.pbtxt")
    assert (
        filesystem.read_text(kfp_schema) == (_first(local / "ImportSchemaGen" / "schema") / "schema.pbtxt").read_text()
    )


def test_blessing_equals_the_local_run(kfp, taxi_runs):
    blessing = kfp.first.artifact("SliceEval", "blessing")
    local_blessed = (_first(taxi_runs.root / "artifacts" / "SliceEval" / "blessing") / "BLESSED").exists()
    assert local_blessed
    assert blessing["metadata"]["blessed"] == 1
    assert filesystem.isfile(join(blessing["uri"], "BLESSED"))


def test_model_trained_and_pushed_like_the_local_run(kfp, taxi_runs):
    run = kfp.first
    model = run.artifact("Trainer", "model")["uri"]
    assert model.startswith(f"{kfp.pipeline_root}/taxi-run-1/Trainer/")
    assert filesystem.isfile(join(model, "Format-Serving", "saved_model.pb"))
    pushed = run.artifact("GovernedPush", "pushed_model")
    assert pushed["metadata"]["pushed"] == 1
    assert pushed["metadata"]["destination_name"] == "staging"  # auto; production (manual) waits
    assert pushed["metadata"]["model_uri"] == model
    assert pushed["metadata"]["examples_uri"] == run.artifact("Ingest", "examples")["uri"]
    staging = kfp.serving / "staging"
    assert filesystem.isfile(staging / "1" / "saved_model.pb")
    assert publish.versions(staging) == ["1"]  # run 2's very same model reuses it
    assert not filesystem.exists(kfp.serving / "production")
    assert list((taxi_runs.root / "serving" / "staging").iterdir()), "the local run pushed too"
    # production (manual) waits: no store in the task, so the decision is a file beside the push root
    pending = json.loads(filesystem.read_text(kfp.serving / ".pending" / "taxi" / "production" / "taxi-run-1.json"))
    assert (pending["decision"], pending["destination"], pending["run_id"]) == ("pending", "production", "taxi-run-1")
    assert (pending["model_uri"], pending["fingerprint"]) == (model, pushed["metadata"]["model_fingerprint"])


def test_first_run_resolves_nothing(kfp):
    resolved = {task: outputs for task, outputs in kfp.first.outputs.items() if task.endswith("_resolver")}
    assert set(resolved) == {
        "previous_span_resolver",
        "pushed_model_resolver",
        "pushed_span_resolver",
        "baseline_model_resolver",
    }
    assert all(artifacts == [] for outputs in resolved.values() for artifacts in outputs.values())
    drift = json.loads(
        filesystem.read_text(join(kfp.first.artifact("DataDrift", "drift_report")["uri"], "drift_report.json"))
    )
    assert drift["reports"] == []


def test_second_run_resolves_span_1_and_the_pushed_model_as_locally(kfp):
    first, second = kfp.first, kfp.second
    span_1 = first.artifact("Ingest", "examples")
    assert second.artifact("Ingest", "examples")["metadata"]["span"] == 2
    assert second.artifact("previous_span_resolver", "examples")["uri"] == span_1["uri"]
    assert (
        second.artifact("pushed_model_resolver", "pushed_model")["uri"]
        == first.artifact("GovernedPush", "pushed_model")["uri"]
    )
    assert second.artifact("pushed_span_resolver", "examples")["uri"] == span_1["uri"]
    assert second.artifact("baseline_model_resolver", "model")["uri"] == first.artifact("Trainer", "model")["uri"]


def test_second_run_drift_and_evaluation_used_them(kfp):
    from tfxgate.artifacts import drift_report

    second = kfp.second
    document = drift_report.read(second.artifact("DataDrift", "drift_report")["uri"])
    compared = {c["kind"]: c for c in drift_report.comparisons(document)}
    assert set(compared) == {"drift", "drift_vs_pushed"}
    assert all("span 1" in c["baseline"] and "span 2" in c["current"] for c in compared.values())
    assert all(not c["drifted"] for c in compared.values())  # the same rows
    blessing = second.artifact("SliceEval", "blessing")["metadata"]
    assert blessing["baseline_model"] == kfp.first.artifact("Trainer", "model")["uri"]  # TFX's baseline key


def test_push_records_rebuilt_from_the_manifest_match_a_local_runs_and_history_lists_them(kfp, decided, taxi_runs):
    manifest = publish.read_manifest(kfp.serving / "staging" / "1")
    assert (manifest["pipeline"], manifest["run_id"]) == ("taxi", "taxi-run-1")
    assert "__value__" not in manifest["gates"]  # Kubeflow hands metadata over as TFX JSON values
    assert manifest["model_uri"] == kfp.first.artifact("Trainer", "model")["uri"]

    history = [h for h in decided.before if h["kind"] == "push"]
    pushes = [(h["kind"], h["destination"], h["version"], h["run_id"]) for h in history]
    # The seeded trainer makes the very same model from the same rows, however busy the machine
    # (tests/test_training_inputs.py): run 2's push reuses version 1 and records no second push.
    first, second = (run.artifact("GovernedPush", "pushed_model")["metadata"] for run in (kfp.first, kfp.second))
    assert second["model_fingerprint"] == first["model_fingerprint"]
    for pushed in (first, second):
        assert (pushed["pushed"], pushed["pushed_version"]) == (1, "1")
    assert pushes == [("push", "staging", "1", "taxi-run-1")]
    assert [h["current"] for h in history] == [False] * (len(history) - 1) + [True]

    kfp_record, kfp_fields = _push_record(kfp.base / "governance")
    local_record, local_fields = _push_record(taxi_runs.root)
    # The same record, marked as rebuilt; the model is named by uri and fingerprint only: the
    # manifest's model id is one of KFP's store, which recovery does not record in this one.
    assert kfp_fields - {"recovered"} == local_fields - {"model_id"}
    assert kfp_record.recovered == "1"
    assert json.loads(kfp_record.gates) == json.loads(
        kfp.first.artifact("GovernedPush", "pushed_model")["metadata"]["gates"]
    )


def test_history_lists_the_kubeflow_runs_pending_decisions_one_per_model(kfp, decided):
    waiting = [(h["destination"], h["run_id"], h["state"]) for h in decided.before if h["kind"] == "pending"]
    # A pending decision binds to the model: run 2's very same model (seeded trainer, same rows) adds none.
    assert waiting == [("production", "taxi-run-1", "waiting")]


def test_approve_pushes_the_kubeflow_runs_model_to_production_on_the_emulator(kfp, decided):
    production = kfp.serving / "production"
    model = kfp.first.artifact("Trainer", "model")["uri"]
    assert "approved run taxi-run-1" in decided.approve.stdout and f"{production}/1" in decided.approve.stdout
    assert publish.versions(production) == ["1"] and publish.current_version(production) == "1"
    assert filesystem.isfile(production / "1" / "saved_model.pb")
    assert fingerprint.model_fingerprint(production / "1") == fingerprint.model_fingerprint(publish.serving_dir(model))
    manifest = publish.read_manifest(production / "1")
    assert (manifest["decision"], manifest["by"], manifest["reason"]) == ("approved", "ana", "kfp run 1 ok")
    assert (manifest["pipeline"], manifest["run_id"], manifest["model_uri"]) == ("taxi", "taxi-run-1", model)
    approved = [
        (h["kind"], h["version"], h["by"], h["reason"], h["run_id"], h["current"])
        for h in decided.after
        if h["destination"] == "production"
    ]
    assert approved[0] == ("push", "1", "ana", "kfp run 1 ok", "taxi-run-1", True)
    assert [h for h in decided.after if h["kind"] == "pending" and h["run_id"] == "taxi-run-1"] == []


def test_refused_decisions_on_the_kubeflow_run_exit_2_with_the_reason(kfp, decided):
    def approve(run: str) -> str:
        command = [kfp.venv.tfxgate, "approve", run, "-c", kfp.config, "--by", "bo", "--reason", "again", *kfp.sets]
        return kfp.venv.run(command, cwd=kfp.base / "work", exit_code=2).stderr

    unknown = approve("taxi-run-9")
    assert "cannot approve: run taxi-run-9 has no model pending approval" in unknown
    assert "already approved for production by ana" in approve("taxi-run-1")


@pytest.fixture(scope="module")
def s3_push(kfp, s3_server) -> tuple[RemotePath, dict]:
    """Run 1's GovernedPush task alone, executed again with the push root on the S3 server (moto)."""
    import yaml

    serving = filesystem.location(f"{s3_server.new_bucket('kfp')}/serving")
    spec = next(yaml.safe_load_all(kfp.spec.read_text()))
    parameters = spec["root"]["dag"]["tasks"]["GovernedPush"]["inputs"]["parameters"]
    settings = json.loads(parameters["settings"]["runtimeValue"]["constant"])
    image = dataclasses.replace(kfp.image, env={**kfp.image.env, **s3_server.env})
    outputs = rerun_task(
        kfp.spec,
        kfp.first,
        "GovernedPush",
        run_name="taxi-run-1-s3",
        parameters={"settings": json.dumps({**settings, "root": str(serving)})},
        image=image,
        log_dir=kfp.base / "logs",
    )
    [pushed] = outputs["pushed_model"]
    return serving, pushed


def test_the_push_path_on_s3(kfp, s3_push):
    serving, pushed = s3_push
    staging = serving / "staging"
    model = kfp.first.artifact("Trainer", "model")["uri"]
    assert pushed["metadata"]["pushed"] == 1
    assert pushed["metadata"]["pushed_destination"] == f"{staging}/1"
    assert publish.versions(staging) == ["1"] and publish.current_version(staging) == "1"
    assert sorted(filesystem.listdir(staging)) == ["1", "current"]  # no hidden upload prefix left behind
    assert fingerprint.model_fingerprint(staging / "1") == pushed["metadata"]["model_fingerprint"]
    manifest = publish.read_manifest(staging / "1")
    assert (manifest["run_id"], manifest["model_uri"], manifest["decision"]) == ("taxi-run-1-s3", model, "push")
    assert not filesystem.exists(serving / "production")
    assert filesystem.isfile(serving / ".pending" / "taxi" / "production" / "taxi-run-1-s3.json")


def _push_record(root: Path) -> tuple[object, set[str]]:
    """The first tfxgate.Push record in the root's embedded store, and its fields that hold a value."""
    from tfxgate.mlmd import audit
    from tfxgate.mlmd.settings import SqliteMetadata
    from tfxgate.mlmd.store import open_store

    store = open_store(SqliteMetadata(), root=root, read_only=True)
    [record, *_] = audit.records(store, pipeline="taxi", kinds=[audit.PUSH])
    return record, {k for k, v in dataclasses.asdict(record).items() if v not in ("", None)}
