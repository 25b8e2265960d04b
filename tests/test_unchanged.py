"""What makes a rerun "unchanged" (pipelines/unchanged.py): every input TFX's cache keys on, and ML Metadata.

On a real SQLite ML Metadata store and real files, without running the pipeline:
each change that would make TFX run a stage again must make the fingerprint or
the store's marker differ, and the cases that cannot be told cheaply must take
the full path. The end-to-end answer (no TFX import, the outcome repeated) is in
tests/test_startup.py.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import TAXI_CONFIG, small_run_overrides, taxi_rows
from tfxgate.mlmd.settings import SqliteMetadata
from tfxgate.mlmd.store import open_store
from tfxgate.pipelines import unchanged
from tfxgate.pipelines.config.root import load_config


@pytest.fixture
def project(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text(taxi_rows(50))
    trainer = tmp_path / "trainer.py"
    shutil.copy(TAXI_CONFIG.parent.parent / "trainers" / "taxi" / "trainer.py", trainer)
    root = tmp_path / "root"
    root.mkdir()
    overrides = [*small_run_overrides(csv, root), f"stages.trainer.module_file={trainer}"]
    return csv, trainer, root, overrides


def _config(overrides, *more):
    return load_config(TAXI_CONFIG, overrides=[*overrides, *more])


def _recorded(config):
    store = open_store(SqliteMetadata(), root=config.pipeline.root)
    inputs = unchanged.fingerprint(config)
    unchanged.record(config, inputs, store, run_id="run-1", exit_code=4, status="BLOCKED")
    return store


def test_nothing_changed_repeats_the_recorded_outcome(project):
    *_, overrides = project
    store = _recorded(_config(overrides))
    again = _config(overrides)
    assert unchanged.previous(again, unchanged.fingerprint(again), store) == unchanged.Previous("run-1", 4, "BLOCKED")
    found = unchanged.unchanged_since(again, unchanged.fingerprint(again), notice=print)
    assert found == unchanged.Previous("run-1", 4, "BLOCKED")


def test_a_changed_input_is_a_change(project):
    csv, trainer, root, overrides = project
    store = _recorded(_config(overrides))

    def still(*more) -> bool:
        config = _config(overrides, *more)
        return unchanged.previous(config, unchanged.fingerprint(config), store) is not None

    assert still()
    assert not still("stages.trainer.train_steps=7")  # any config key
    stat = os.stat(csv)
    os.utime(csv, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # touched data: ExampleGen refingerprints
    assert not still()
    os.utime(csv, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert still()
    trainer.write_text(trainer.read_text() + "\n# edited\n")  # the content of a file the config names
    assert not still()


def test_a_write_to_ml_metadata_is_a_change(project):
    from ml_metadata.proto import metadata_store_pb2

    *_, overrides = project
    config = _config(overrides)
    store = _recorded(config)
    kind = store.put_execution_type(metadata_store_pb2.ExecutionType(name="tfxgate.Approve.test"))
    store.put_executions([metadata_store_pb2.Execution(type_id=kind)])  # e.g. an approval since the run
    assert unchanged.previous(config, unchanged.fingerprint(config), store) is None


def test_what_cannot_be_told_cheaply_takes_the_full_path(project, monkeypatch):
    *_, overrides = project
    assert unchanged.fingerprint(_config(overrides, "pipeline.enable_cache=false")) is None
    assert unchanged.fingerprint(_config(overrides, "data.path=gs://bucket/data.csv")) is None
    monkeypatch.setenv("TFXGATE_FAILPOINTS", "push.after_complete")
    from tfxgate.storage import failpoints

    failpoints._armed.cache_clear()
    try:
        assert unchanged.fingerprint(_config(overrides)) is None
    finally:
        monkeypatch.delenv("TFXGATE_FAILPOINTS")
        failpoints._armed.cache_clear()


def test_a_failed_run_forgets(project):
    *_, overrides = project
    config = _config(overrides)
    store = _recorded(config)
    unchanged.forget(config)
    assert unchanged.previous(config, unchanged.fingerprint(config), store) is None
    assert unchanged.unchanged_since(config, unchanged.fingerprint(config), notice=print) is None
