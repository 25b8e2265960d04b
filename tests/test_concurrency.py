"""Four pipelines at once against one ML Metadata store: MySQL takes them together, SQLite in turns.

Each pipeline is the taxi config cut to Ingest -> ImportSchemaGen -> Validate
(statistics only) -> Trainer (5 steps) on 300 rows, started as its own `tfxgate
run` process with its own name and root, all four at the same moment. On MySQL they run concurrently; on one SQLite
file tfxgate makes them queue (`pipelines/metadata.exclusive_use`), since
SQLite would otherwise fail a run at a random stage with `database is locked`.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from ml_metadata.proto import metadata_store_pb2

from tests.conftest import REPO, TAXI_CONFIG, CliRun, small_run_overrides, taxi_csv
from tests.lineage import artifact_types, run_record

pytestmark = pytest.mark.e2e

NODES = {"Ingest", "Validate", "ImportSchemaGen", "Trainer"}
TINY = [
    "stages.validation.enabled=false",
    "stages.drift.enabled=false",
    "stages.evaluation.enabled=false",
    "stages.push.enabled=false",
    "stages.trainer.train_steps=5",
    "stages.trainer.eval_steps=2",
]
PIPELINES = 4


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> Path:
    """Every 50th taxi row (300 rows)."""
    path = tmp_path_factory.mktemp("tiny") / "taxi_tiny.csv"
    with taxi_csv().open() as src, path.open("w") as dst:
        dst.write(next(src))
        dst.writelines(line for i, line in enumerate(src) if i % 50 == 0)
    return path


def run_at_once(csv: Path, base: Path, metadata: str, *, env=None) -> list[CliRun]:
    """Starts PIPELINES `tfxgate run`s together and waits for all of them."""
    started = []
    for i in range(PIPELINES):
        root = base / f"p{i}"
        root.mkdir(parents=True)
        sets = [*small_run_overrides(csv, root), *TINY, f"pipeline.name=tiny-{i}", metadata]
        args = [str(Path(sys.executable).parent / "tfxgate"), "run", str(TAXI_CONFIG)]
        args += [item for s in sets for item in ("--set", s)]
        out, err = (root / "stdout.txt").open("w"), (root / "stderr.txt").open("w")
        started.append((root, subprocess.Popen(args, stdout=out, stderr=err, text=True, cwd=REPO, env=env)))
    runs = []
    for root, proc in started:
        code = proc.wait(timeout=1200)
        runs.append(CliRun(code, (root / "stdout.txt").read_text(), (root / "stderr.txt").read_text(), root))
    return runs


def assert_run_recorded(store, run: CliRun) -> None:
    """Every node COMPLETE in this run, its artifacts under this root, lineage connected."""
    [summary] = run.summaries()
    record = run_record(store, summary["run_id"])
    states = {node: execution.last_known_state for node, execution in record.executions.items()}
    assert states == {node: metadata_store_pb2.Execution.COMPLETE for node in NODES}
    assert artifact_types(store, record.outputs["Ingest"]) == ["Examples", "tfxgate.Quarantine"]
    assert artifact_types(store, record.outputs["Validate"]) == ["ExampleAnomalies", "ExampleStatistics"]
    assert artifact_types(store, record.outputs["Trainer"]) == ["Model", "ModelRun"]
    ingested, schema = record.outputs["Ingest"], record.outputs["ImportSchemaGen"]
    type_names = {t.id: t.name for t in store.get_artifact_types()}
    examples = {a.id for a in store.get_artifacts_by_id(sorted(ingested)) if type_names[a.type_id] == "Examples"}
    assert record.inputs["Validate"] == examples | schema
    assert record.inputs["Trainer"] == examples | schema
    produced = set().union(*record.outputs.values())
    for artifact in store.get_artifacts_by_id(sorted(produced)):
        assert artifact.uri.startswith(str(run.root)), artifact.uri  # no run wrote into another's record
        assert artifact.state == metadata_store_pb2.Artifact.LIVE


@pytest.mark.mysql
def test_four_pipelines_at_once_on_one_mysql_store(mariadb, tiny_csv, tmp_path, monkeypatch):
    from tests.test_mysql import metadata_check
    from tfxgate.mlmd.store import open_store
    from tfxgate.pipelines.config.root import load_config

    db = mariadb.create_database("concurrent")
    assert metadata_check(db, tmp_path, "--upgrade").returncode == 0
    runs = run_at_once(tiny_csv, tmp_path / "runs", db.metadata_override, env=db.env)
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr

    monkeypatch.setenv(db.password_env, db.password)
    store = open_store(load_config(TAXI_CONFIG, overrides=[db.metadata_override]).metadata, root=tmp_path)
    for run in runs:
        assert_run_recorded(store, run)
    # Nothing lost, nothing doubled: 4 executions and 6 artifacts per pipeline (Examples,
    # Quarantine, ExampleStatistics, ExampleAnomalies, Schema, Model, ModelRun), and no more.
    assert len(store.get_executions()) == PIPELINES * len(NODES)
    assert len(store.get_artifacts()) == PIPELINES * 7
    assert len(store.get_contexts_by_type("pipeline")) == PIPELINES


def test_four_pipelines_at_once_on_one_sqlite_file_take_turns(tiny_csv, tmp_path):
    from tfxgate.mlmd.store import open_store
    from tfxgate.pipelines.config.root import load_config

    shared = tmp_path / "shared.sqlite"
    runs = run_at_once(tiny_csv, tmp_path / "runs", f"metadata={{kind: sqlite, path: {shared}}}")
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr

    with sqlite3.connect(shared) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store = open_store(load_config(TAXI_CONFIG, overrides=[f"metadata.path={shared}"]).metadata, root=tmp_path)
    spans = []
    for run in runs:
        assert_run_recorded(store, run)
        executions = run_record(store, run.summaries()[0]["run_id"]).executions.values()
        spans.append(
            (
                min(e.create_time_since_epoch for e in executions),
                max(e.last_update_time_since_epoch for e in executions),
            )
        )
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end <= start, f"runs on one SQLite file overlapped: {spans}"  # they took turns
    assert len(store.get_executions()) == PIPELINES * len(NODES)
