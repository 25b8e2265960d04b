"""A governed push without the pipeline around it, for crash tests and `scripts/kill_soak.py`.

    python -m tests.crash_push_driver ROOT MODEL_DIR RUN_ID

does what a `tfxgate run` does for its push, on a real ML Metadata SQLite
store under ROOT, with the same core calls as the GovernedPush executor
(`recovery.reconcile` under the run lock first, then
`push_records.publish_and_record` for `staging` (auto) and
`push_records.record_pending` for `production` (manual)). The node's own
execution is a real MLMD execution, RUNNING while the push happens and
COMPLETE after, as TFX's launcher leaves it, so a kill leaves it RUNNING.
`check_invariants` is what every crash test asserts afterwards. The full
pipeline path (TFX's launcher, COMPLETE, the runner's link) is covered by the
e2e tests of tests/test_crash_push.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ml_metadata.proto import metadata_store_pb2 as pb

from tfxgate import storage
from tfxgate.governance import fingerprint, publish, push_records, recovery
from tfxgate.governance.push_records import names_version
from tfxgate.governance.target import Destination, GovernedPipeline
from tfxgate.mlmd import audit
from tfxgate.mlmd.settings import SqliteMetadata
from tfxgate.mlmd.store import open_store
from tfxgate.storage import failpoints, filesystem

PIPELINE = "taxi"
REPO = Path(__file__).resolve().parents[1]


SERVING_ENV = "TFXGATE_TEST_SERVING"  # a push root on an object store (gs://bucket/serving) instead of ROOT/serving


def drive(root: Path, model: Path, run_id: str, *, armed: str = "", serving: str = "") -> subprocess.CompletedProcess:
    """Runs this driver in a child process, `armed` failpoints set (a SIGKILL ends it with -9)."""
    env = {k: v for k, v in os.environ.items() if k not in (failpoints.ENV, SERVING_ENV)}
    env.update({failpoints.ENV: armed} if armed else {})
    env.update({SERVING_ENV: serving} if serving else {})
    return subprocess.run(
        [sys.executable, "-m", "tests.crash_push_driver", str(root), str(model), run_id],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )


def target(root: Path) -> GovernedPipeline:
    serving = filesystem.location(os.environ[SERVING_ENV]) if os.environ.get(SERVING_ENV) else root / "serving"
    return GovernedPipeline(
        name=PIPELINE,
        root=root,
        metadata=SqliteMetadata(path="metadata.sqlite"),
        push_root=serving,
        destinations={
            "staging": Destination(serving / "staging", "auto"),
            "production": Destination(serving / "production", "manual"),
        },
    )


def push_run(root: Path, model_dir: Path, run_id: str, *, log=print) -> None:
    """One run's push (see the module docstring); prints `ready` (imports done) first and `done` at the end."""
    print("ready", flush=True)
    governed = target(root)
    with storage.file_lock(root / storage.RUN_LOCK_FILE):
        store = open_store(governed.metadata, root=root)
        recovery.reconcile(store, governed, log=log)
        context = _context(store, "pipeline", PIPELINE)
        _context(store, "pipeline_run", run_id)
        model_id = _model(store, model_dir, context)
        node = _execution(store, context)
        found = fingerprint.model_fingerprint(model_dir)
        gates = json.dumps({"evaluation": {"passed": True, "detail": "blessed"}})
        model = dict(fingerprint=found, model_id=model_id, model_uri=str(model_dir))
        manifest = push_records.manifest(**model, pipeline=PIPELINE, run_id=run_id, gates=gates, destination="staging")
        staging = governed.destinations["staging"].directory
        push_records.publish_and_record(model_dir, staging, root=governed.push_root, manifest=manifest, store=store)
        push_records.record_pending(
            store,
            destination="production",
            fingerprint=found,
            model_id=model_id,
            pipeline=PIPELINE,
            run_id=run_id,
            gates=gates,
        )
        node.last_known_state = pb.Execution.COMPLETE
        store.put_execution(node, [], [])
    print("done", flush=True)


def check_invariants(root: Path, governed: GovernedPipeline | None = None) -> list[str]:
    """What must hold after any kill and one clean rerun; returns the violations (empty when all hold).

    `governed`: the pipeline as governance sees it (default: this driver's).
    """
    governed = governed or target(root)
    store = open_store(governed.metadata, root=root, read_only=True)
    problems = []
    pushes = audit.records(store, pipeline=governed.name, kinds=[audit.PUSH])
    for name, destination in governed.destinations.items():
        directory = destination.directory
        seen: dict[str, str] = {}
        for version in publish.versions(directory):
            model = fingerprint.model_fingerprint(directory / version)
            manifest = publish.read_manifest(directory / version)
            if manifest["fingerprint"] != model:
                problems.append(f"{name} {version}: manifest fingerprint is not the version's content")
            if model in seen:
                problems.append(f"{name}: the same model is versions {seen[model]} and {version}")
            seen[model] = version
            mine = [
                r
                for r in pushes
                if r.destination == name and r.state != "failed" and names_version(store, r, directory / version)
            ]
            if len(mine) != 1:
                problems.append(f"{name} {version}: {len(mine)} push records (want exactly 1)")
            elif mine[0].pushed_model_id is None:
                problems.append(f"{name} {version}: its push record has no PushedModel")
        current = publish.current_version(directory)
        if current is not None and current not in publish.versions(directory):
            problems.append(f"{name}: current -> {current}, not a complete version")
        for r in pushes:
            path = filesystem.location(audit.version_path(store, r) or directory / r.version)
            if r.destination == name and r.state != "failed" and not filesystem.isfile(path / publish.MANIFEST):
                problems.append(f"{name}: push record {r.id} names {path}, not a complete version")
    running = [e.id for e in store.get_executions() if e.last_known_state == pb.Execution.RUNNING]
    if running:
        problems.append(f"executions still RUNNING: {running}")
    return problems


def _context(store, type_name: str, name: str) -> pb.Context:
    type_id = store.put_context_type(pb.ContextType(name=type_name))
    found = store.get_context_by_type_and_name(type_name, name)
    if found is None:
        [context_id] = store.put_contexts([pb.Context(type_id=type_id, name=name)])
        [found] = store.get_contexts_by_id([context_id])
    return found


def _model(store, model_dir: Path, context: pb.Context) -> int:
    type_id = store.put_artifact_type(pb.ArtifactType(name="Model"))
    for model in store.get_artifacts_by_type("Model"):
        if model.uri == str(model_dir):
            return model.id
    [model_id] = store.put_artifacts([pb.Artifact(type_id=type_id, uri=str(model_dir), state=pb.Artifact.LIVE)])
    store.put_attributions_and_associations([pb.Attribution(context_id=context.id, artifact_id=model_id)], [])
    return model_id


def _execution(store, context: pb.Context) -> pb.Execution:
    type_id = store.put_execution_type(pb.ExecutionType(name="GovernedPush"))
    execution = pb.Execution(type_id=type_id, last_known_state=pb.Execution.RUNNING)
    execution_id, _, _ = store.put_execution(execution, [], [context])
    [execution] = store.get_executions_by_id([execution_id])
    return execution


def make_model(path: Path, *, tag: str, files: int = 4, size: int = 4096) -> Path:
    """A SavedModel-shaped directory whose content (hence fingerprint) depends on `tag`."""
    (path / "variables").mkdir(parents=True, exist_ok=True)
    (path / "saved_model.pb").write_text(f"graph {tag}")
    for i in range(files):
        (path / "variables" / f"variables.data-{i:05d}").write_bytes(f"{tag}:{i}".encode() * (size // 8))
    return path


if __name__ == "__main__":
    push_run(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
