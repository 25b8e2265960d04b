"""The Ingest component's driver (span resolution, input errors) and executor, without a pipeline."""

from __future__ import annotations

import json

import pytest

SPLITS = {"train": 2, "eval": 1}


def resolve(input_base, pattern, *, span="latest", span_range=None):
    """Runs the component's driver the way the launcher does; returns the resolved exec properties."""
    from tfx.utils import proto_utils

    from tfxgate.components.ingest.component import Ingest, IngestDriver

    component = Ingest(
        input_base=str(input_base), input_pattern=pattern, splits=SPLITS, span=span, span_range=span_range
    )
    props = dict(component.exec_properties)
    for key in ("input_config", "output_config", "range_config"):
        if props.get(key) is not None and not isinstance(props[key], str):
            props[key] = proto_utils.proto_to_json(props[key])
    return IngestDriver(None).resolve_exec_properties(props, None, None)


def write_spans(base, spans):
    for span in spans:
        folder = base / f"span-{span}"
        folder.mkdir(parents=True)
        (folder / "data.csv").write_text(f"id,value\n{span},1.0\n{span + 100},2.0\n")


def test_latest_span_is_picked(tmp_path):
    write_spans(tmp_path, [1, 2, 7])
    props = resolve(tmp_path, "span-{SPAN}/*.csv")
    assert props["span"] == 7
    assert json.loads(props["input_config"])["splits"][0]["pattern"] == "span-7/*.csv"


def test_a_configured_span_is_picked(tmp_path):
    write_spans(tmp_path, [1, 2, 7])
    assert resolve(tmp_path, "span-{SPAN}/*.csv", span=2)["span"] == 2


def test_a_configured_span_that_does_not_exist_is_named(tmp_path):
    write_spans(tmp_path, [1, 2])
    with pytest.raises(ValueError, match=f"cannot resolve the span of {tmp_path}"):
        resolve(tmp_path, "span-{SPAN}/*.csv", span=5)


def test_missing_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"input path does not exist: {tmp_path / 'nowhere'}"):
        resolve(tmp_path / "nowhere", "*.csv")


def test_span_pattern_matching_nothing_is_named(tmp_path):
    write_spans(tmp_path, [1])
    with pytest.raises(FileNotFoundError, match="span pattern matches nothing: .*/day-\\{SPAN\\}/\\*.csv"):
        resolve(tmp_path, "day-{SPAN}/*.csv")


def test_plain_pattern_matching_nothing_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="input pattern matches nothing: .*/\\*.parquet"):
        resolve(tmp_path, "*.parquet")


def run_executor(tmp_path, csv_text, *, max_bad_rows=0, engine="auto", beam_pipeline_args=None):
    from tfx.utils import proto_utils

    from tfxgate.components.ingest.component import Ingest

    (tmp_path / "in").mkdir(parents=True)
    (tmp_path / "in" / "data.csv").write_text(csv_text)
    schema = 'feature { name: "id" type: INT } feature { name: "value" type: FLOAT }'
    component = Ingest(
        input_base=str(tmp_path / "in"),
        input_pattern="data.csv",
        splits=SPLITS,
        schema_text=schema,
        max_bad_rows=max_bad_rows,
        engine=engine,
    )
    props = {k: v for k, v in component.exec_properties.items() if v is not None}
    for key in ("input_config", "output_config"):
        if not isinstance(props[key], str):
            props[key] = proto_utils.proto_to_json(props[key])
    return execute(tmp_path, props, beam_pipeline_args=beam_pipeline_args)


def execute(tmp_path, props, *, beam_pipeline_args=None):
    """Runs the executor on resolved exec properties; outputs go under tmp_path."""
    from tfx.types import standard_artifacts

    from tfxgate.components.ingest.component import Quarantine
    from tfxgate.components.ingest.executor import Executor

    examples, quarantine = standard_artifacts.Examples(), Quarantine()
    examples.uri, quarantine.uri = str(tmp_path / "examples"), str(tmp_path / "quarantine")
    (tmp_path / "quarantine").mkdir()
    context = Executor.Context(tmp_dir=str(tmp_path / "tmp"), unique_id="1", beam_pipeline_args=beam_pipeline_args)
    Executor(context).Do({}, {"examples": [examples], "quarantine": [quarantine]}, props)
    return examples, quarantine


def test_executor_writes_splits_quarantine_and_properties(tmp_path):
    rows = "".join(f"{i},{i}.5\n" for i in range(300))
    examples, quarantine = run_executor(tmp_path, "id,value\n" + rows + "oops,1\n", max_bad_rows=1)
    counts = json.loads(examples.get_string_custom_property("rows_per_split"))
    assert sum(counts.values()) == 300 and set(counts) == {"train", "eval"}
    assert examples.split_names == '["train", "eval"]'
    assert examples.get_int_custom_property("bad_rows") == 1
    assert examples.get_int_custom_property("rows_read") == 301
    [line] = (tmp_path / "quarantine" / "bad_rows.jsonl").read_text().splitlines()
    assert json.loads(line) == {
        "file": str(tmp_path / "in" / "data.csv"),
        "row": 302,
        "column": "id",
        "reason": "not an integer",
        "raw_line": "oops,1",
    }
    assert (tmp_path / "examples" / "Split-train" / "data_tfrecord-00000-of-00001.gz").exists()


def test_executor_over_the_policy_writes_nothing(tmp_path):
    from tfxgate.components.ingest.quarantine import TooManyBadRows

    with pytest.raises(TooManyBadRows, match="data.csv:3: column 'value': not a number"):
        run_executor(tmp_path, "id,value\n1,1.0\n2,abc\n")
    assert not (tmp_path / "examples").exists()
    assert not (tmp_path / "quarantine" / "bad_rows.jsonl").exists()
