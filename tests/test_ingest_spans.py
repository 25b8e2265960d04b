"""Span resolution of the Ingest driver: {VERSION}, date specs, span ranges, and their config."""

from __future__ import annotations

import datetime
import json

import pytest

from tests.test_ingest_component import resolve, write_spans


def patterns(props) -> list[str]:
    return [split["pattern"] for split in json.loads(props["input_config"])["splits"]]


def test_latest_version_of_the_latest_span_is_picked(tmp_path):
    for span, version in [(1, 1), (2, 1), (2, 3), (2, 2)]:
        folder = tmp_path / f"span-{span}" / f"v{version}"
        folder.mkdir(parents=True)
        (folder / "data.csv").write_text("id\n1\n")
    props = resolve(tmp_path, "span-{SPAN}/v{VERSION}/*.csv")
    assert (props["span"], props["version"]) == (2, 3)
    assert patterns(props) == ["span-2/v3/*.csv"]


def test_date_specs_pick_the_newest_day_numbered_as_exampledgen_does(tmp_path):
    for day in ("2026/11/23", "2026/11/25", "2026/10/30"):
        (tmp_path / day).mkdir(parents=True)
        (tmp_path / day / "data.csv").write_text("id\n1\n")
    props = resolve(tmp_path, "{YYYY}/{MM}/{DD}/*.csv")
    assert props["span"] == (datetime.date(2026, 11, 25) - datetime.date(1970, 1, 1)).days
    assert patterns(props) == ["2026/11/25/*.csv"]


def test_a_span_range_reads_every_span_in_it(tmp_path):
    write_spans(tmp_path, [1, 2, 3, 4])
    props = resolve(tmp_path, "span-{SPAN}/*.csv", span_range=(2, 3))
    assert patterns(props) == ["span-2/*.csv", "span-3/*.csv"]
    assert props["span"] == 3 and json.loads(props["spans_read"]) == {"2": None, "3": None}
    assert "span 2:" in props["input_fingerprint"] and "span 3:" in props["input_fingerprint"]


def test_a_span_range_with_a_missing_span_names_it(tmp_path):
    write_spans(tmp_path, [1, 2, 4])
    with pytest.raises(ValueError, match=r"span range 1\.\.4 of .*: span 3 cannot be read"):
        resolve(tmp_path, "span-{SPAN}/*.csv", span_range=(1, 4))


def test_a_span_range_executes_into_one_artifact_with_the_spans_recorded(tmp_path):
    from tests.test_ingest_component import execute

    write_spans(tmp_path / "in", [1, 2, 3])
    props = resolve(tmp_path / "in", "span-{SPAN}/*.csv", span_range=(1, 2))
    examples, _ = execute(tmp_path, props)
    assert examples.span == 2
    assert json.loads(examples.get_string_custom_property("spans")) == {"1": None, "2": None}
    assert examples.get_int_custom_property("rows_read") == 4
    assert examples.get_int_custom_property("spanned") == 1  # DataDrift's previous-span resolver reads it


def test_the_driver_says_whether_the_input_is_spanned(tmp_path):
    write_spans(tmp_path, [1, 7])
    assert resolve(tmp_path, "span-{SPAN}/*.csv")["spanned"] == 1
    assert resolve(tmp_path, "span-7/*.csv")["spanned"] == 0


def load(tmp_path, *overrides):
    from tests.test_config import MINIMAL, write_config
    from tfxgate.pipelines.config.root import load_config

    for span in (3, 4, 5):
        (tmp_path / "drops" / f"span-{span}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "drops" / f"span-{span}" / "part.csv").write_text("a,b\n1,2\n")
    return load_config(write_config(tmp_path, MINIMAL), overrides=["data.path=drops/span-{SPAN}/*.csv", *overrides])


def test_config_span_range_becomes_span_numbers(tmp_path):
    config = load(tmp_path, "data.span_range={start: 3, end: 5}")
    assert config.data.span_range.numbers() == (3, 5)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["data.span_range={start: 5, end: 3}"], "start (5) is after end (3)"),
        (["data.span_range={start: 3, end: 4}", "data.span=3"], "set either span or span_range, not both"),
        (["data.span_range={start: 2026-11-01, end: 2026-11-02}"], "dates need {YYYY}/{MM}/{DD} in data.path"),
        (["data.path=drops/span-3/*.csv", "data.span_range={start: 3, end: 4}"], "has no {SPAN} or {YYYY}"),
    ],
)
def test_config_refuses_a_wrong_span_range(tmp_path, overrides, message):
    from tfxgate.pipelines.config.root import ConfigError

    with pytest.raises(ConfigError) as err:
        load(tmp_path, *overrides)
    assert message in str(err.value) and "data" in str(err.value)


def test_config_span_range_of_dates_is_numbered_in_days(tmp_path):
    from tests.test_config import MINIMAL, write_config
    from tfxgate.pipelines.config.root import load_config

    (tmp_path / "2026" / "11" / "20").mkdir(parents=True)
    (tmp_path / "2026" / "11" / "20" / "a.csv").write_text("a,b\n1,2\n")
    config = load_config(
        write_config(tmp_path, MINIMAL),
        overrides=["data.path={YYYY}/{MM}/{DD}/*.csv", "data.span_range={start: 2026-11-19, end: 2026-11-20}"],
    )
    day = (datetime.date(2026, 11, 20) - datetime.date(1970, 1, 1)).days
    assert config.data.span_range.numbers() == (day - 1, day)


def test_a_date_span_range_reads_each_day(tmp_path):
    for day in ("2026/11/23", "2026/11/24", "2026/11/25"):
        (tmp_path / day).mkdir(parents=True)
        (tmp_path / day / "data.csv").write_text("id\n1\n")
    first = (datetime.date(2026, 11, 23) - datetime.date(1970, 1, 1)).days
    props = resolve(tmp_path, "{YYYY}/{MM}/{DD}/*.csv", span_range=(first, first + 1))
    assert patterns(props) == ["2026/11/23/*.csv", "2026/11/24/*.csv"] and props["span"] == first + 1


def test_config_span_range_and_engine_reach_the_component(tmp_path):
    from tfxgate.pipelines import stages

    config = load(tmp_path, "data.span_range={start: 3, end: 4}", "data.engine=beam")
    from tfx.proto import range_config_pb2
    from tfx.utils import proto_utils

    component = stages.ingest(config)
    range_config = component.exec_properties["range_config"]
    if isinstance(range_config, str):
        range_config = proto_utils.json_to_proto(range_config, range_config_pb2.RangeConfig())
    static = range_config.static_range
    assert (static.start_span_number, static.end_span_number) == (3, 4)
    assert component.exec_properties["engine"] == "beam"
