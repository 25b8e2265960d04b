"""`--if-new-data` on versioned data: the newest span on disk vs the span the last successful run ingested."""

from __future__ import annotations

import os
import time
from pathlib import Path

import ml_metadata as mlmd
import pytest
from ml_metadata.proto import metadata_store_pb2

from tests.conftest import TAXI_CONFIG, small_run_overrides, taxi_rows
from tfxgate.pipelines import schedule, spans
from tfxgate.pipelines.config.root import load_config

CSV = taxi_rows(1)


def write(path: Path, text: str = CSV) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def config_for(tmp_path: Path, pattern: str, *extra: str):
    return load_config(TAXI_CONFIG, overrides=[*small_run_overrides(Path(pattern), tmp_path / "root"), *extra])


def record_run(config, *, run_id: str, span: int, version: int = 0) -> None:
    """What a run leaves behind: its Examples (with span/version) in ML Metadata, and last_success.json."""
    root = config.pipeline.root
    root.mkdir(parents=True, exist_ok=True)
    connection = metadata_store_pb2.ConnectionConfig()
    connection.sqlite.filename_uri = str(root / "metadata.sqlite")
    store = mlmd.MetadataStore(connection)
    examples_type = metadata_store_pb2.ArtifactType(name="Examples")
    examples_type.properties["span"] = metadata_store_pb2.INT
    examples_type.properties["version"] = metadata_store_pb2.INT
    type_id = store.put_artifact_type(examples_type)
    run_type = store.put_context_type(metadata_store_pb2.ContextType(name="pipeline_run"))
    execution_type = store.put_execution_type(metadata_store_pb2.ExecutionType(name="tfxgate.components.Ingest"))
    artifact = metadata_store_pb2.Artifact(type_id=type_id, uri=str(root / "examples"))
    artifact.properties["span"].int_value = span
    artifact.properties["version"].int_value = version
    [artifact_id] = store.put_artifacts([artifact])
    run_context = metadata_store_pb2.Context(type_id=run_type, name=run_id)
    execution = metadata_store_pb2.Execution(
        type_id=execution_type, last_known_state=metadata_store_pb2.Execution.COMPLETE
    )
    event = metadata_store_pb2.Event(type=metadata_store_pb2.Event.OUTPUT)
    [stored] = store.get_artifacts_by_id([artifact_id])
    store.put_execution(execution, [(stored, event)], [run_context], reuse_context_if_already_exist=True)
    schedule.record_success(config, run_id=run_id, processed={"kind": "span", "span": span})


@pytest.mark.parametrize(
    ("pattern", "files", "expected"),
    [
        (
            "span-{SPAN}/data.csv",
            ["span-1/data.csv", "span-12/data.csv", "span-3/data.csv", "other/data.csv"],
            [1, 3, 12],
        ),
        ("export-{SPAN:2}.csv", ["export-01.csv", "export-07.csv", "export-123.csv"], [1, 7]),
        ("{YYYY}-{MM}-{DD}/*.csv", ["1970-01-02/a.csv", "2026-11-25/b.csv"], [1, 20782]),
        ("s{SPAN}/part-{SPAN}.csv", ["s4/part-4.csv", "s5/part-6.csv"], [4]),
    ],
)
def test_spans_on_disk_are_read_from_the_file_names_like_example_gen(tmp_path, pattern, files, expected):
    for name in files:
        write(tmp_path / name)
    found = spans.spans_on_disk(str(tmp_path / pattern))
    assert [s.span for s in found] == expected


def test_newest_span_takes_the_newest_version_of_the_newest_span(tmp_path):
    for name in ("span-1/v-5/d.csv", "span-2/v-1/d.csv", "span-2/v-3/d.csv"):
        write(tmp_path / name)
    config = config_for(tmp_path, str(tmp_path / "span-{SPAN}/v-{VERSION}/d.csv"))
    assert spans.newest_span(config) == spans.Span(2, 3)
    assert str(spans.newest_span(config)) == "span 2 version 3"
    fixed = config_for(tmp_path, str(tmp_path / "span-{SPAN}/v-{VERSION}/d.csv"), "data.span=1")
    assert spans.newest_span(fixed) == spans.Span(1, 5)


def test_unversioned_data_has_no_span(tmp_path):
    config = config_for(tmp_path, str(write(tmp_path / "d.csv")))
    assert spans.newest_span(config) is None
    assert schedule.newest_input(config)["kind"] == "files"


def test_same_span_is_not_new_and_the_message_names_it(tmp_path):
    write(tmp_path / "data/span-1/d.csv")
    span_2 = write(tmp_path / "data/span-2/d.csv")
    config = config_for(tmp_path, str(tmp_path / "data/span-{SPAN}/d.csv"))
    assert schedule.new_data(config).new, "no successful run yet"
    record_run(config, run_id="2026-11-25T18:00:00", span=2)
    decision = schedule.new_data(config)
    assert not decision.new
    assert decision.reason == (
        f"span 2 of 'taxi' ({tmp_path}/data/span-{{SPAN}}/d.csv) was already processed by the last successful run "
        "(2026-11-25T18:00:00); nothing to do"
    )
    # Touching or rewriting a processed span's file does not make it new: spans decide, not fingerprints.
    span_2.write_text(taxi_rows(2))
    os.utime(span_2, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert not schedule.new_data(config).new


def test_a_newer_span_is_new_data(tmp_path):
    write(tmp_path / "data/span-1/d.csv")
    config = config_for(tmp_path, str(tmp_path / "data/span-{SPAN}/d.csv"))
    record_run(config, run_id="r1", span=1)
    assert not schedule.new_data(config).new
    write(tmp_path / "data/span-2/d.csv")
    assert schedule.new_data(config).new


def test_span_is_read_from_ml_metadata_not_from_the_recorded_input(tmp_path):
    """last_success.json names the run; the span comes from that run's Examples artifact."""
    write(tmp_path / "data/span-5/d.csv")
    config = config_for(tmp_path, str(tmp_path / "data/span-{SPAN}/d.csv"))
    record_run(config, run_id="r1", span=4)
    schedule.record_success(config, run_id="r1", processed={"kind": "span", "span": 5})
    assert schedule.new_data(config).new, "MLMD says run r1 ingested span 4; span 5 is new"
    schedule.record_success(config, run_id="unknown-run", processed={"kind": "span", "span": 5})
    assert schedule.new_data(config).new, "a run MLMD does not know is no proof the span was processed"
