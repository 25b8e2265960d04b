"""The files tfxgate writes are valid for their readers.

- JSON is strict: no bare NaN/Infinity (a strict parser refuses the whole file);
  an undefined number is `null`, with its reason under `"nulls"`.
- A run DataDrift blocked carries the drift result that blocked it in its summary.
- The quarantine keeps a bad row's bytes exactly, even when they are not UTF-8.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from tests import synthetic_drift as synthetic
from tfxgate.components.drift import executor
from tfxgate.components.ingest import columns as col
from tfxgate.components.ingest.ingestion import ingest
from tfxgate.components.ingest.quarantine import BadRow, from_jsonl, to_jsonl
from tfxgate.drift.check import compare_tables
from tfxgate.mlmd.settings import SqliteMetadata
from tfxgate.reporting.outcome import NodeOutcome, RunOutcome
from tfxgate.reporting.summary import RunSummary, render, summarize
from tfxgate.storage import strict_json


def strict_loads(text: str):
    """json.loads that refuses NaN/Infinity, as jq, browsers and other languages' parsers do."""

    def refuse(constant: str):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def report_with_an_empty_column():
    """`score` has no values at all in the current span: its numeric measures are NaN."""
    base = synthetic.base_table(rows=500, seed=0)
    current = dict(base)
    current["score"] = np.full(len(base["score"]), np.nan)
    return compare_tables(base, current, categorical={"city", "channel"}), base, current


def test_drift_report_json_has_null_and_a_reason_where_a_measure_is_undefined(tmp_path):
    report, base, current = report_with_an_empty_column()
    executor.write_report([report], {"drift": (base, current)}, output_dir=str(tmp_path), policy="warn")
    payload = strict_loads((tmp_path / "drift_report.json").read_text())
    [score] = [f for f in payload["reports"][0]["features"] if f["feature"] == "score"]
    assert score["values"]["ks"] is None and score["values"]["psi"] is None
    assert score["fired"] == [] or "ks" not in score["fired"]  # undefined never fires
    reasons = payload["nulls"]
    key = next(path for path in reasons if path.endswith(".values.ks") and "[" in path)
    assert reasons[key].startswith("NaN: not measurable: one side has no values")
    page = (tmp_path / "drift_report.html").read_text()
    assert "<td class='na' title='not measurable" in page and "'>n/a <small>" in page and "nan " not in page


def test_strict_json_replaces_infinity_and_numpy_nan():
    text = strict_json.dumps({"a": [1.0, float("inf")], "b": np.float64("nan")}, reason="test")
    assert strict_loads(text) == {
        "a": [1.0, None],
        "b": None,
        "nulls": {"$.a[1]": "Infinity: test", "$.b": "NaN: test"},
    }


def test_run_summary_json_is_strict():
    summary = RunSummary(
        pipeline="p", run_id="r", succeeded=True, seconds=float("nan"), metadata="m", metadata_kind="k"
    )
    loaded = strict_loads(summary.to_json())
    assert loaded["seconds"] is None and loaded["nulls"] == {"$.seconds": "NaN: not a number in the run's records"}


def test_a_run_blocked_by_drift_carries_the_drift_result_in_its_summary(tmp_path):
    """The runner sees only DataDrift's exception (no execution id); the summary finds the run's
    DataDrift execution in ML Metadata and reads the drift report the executor kept."""
    import ml_metadata as mlmd

    from tests.governed_store import _Recorder
    from tfxgate.mlmd.store import connection_config

    metadata = SqliteMetadata()
    store = mlmd.MetadataStore(connection_config(metadata, root=tmp_path))
    recorder = _Recorder(store)
    contexts = [recorder.context("pipeline_run", "r1"), recorder.context("node", "p.DataDrift")]
    execution_id = recorder.execute("DataDrift", contexts=contexts)
    base = synthetic.base_table(rows=1000, seed=0)
    shifted = synthetic.shifted_table(base, drift={"score": "mean_shift"}, seed=1)
    report = compare_tables(base, shifted, categorical={"city", "channel"})
    published = tmp_path / "artifacts" / "DataDrift" / "drift_report" / str(execution_id)
    executor.write_report([report], {"drift": (base, shifted)}, output_dir=str(published), policy="block")
    with pytest.raises(executor.DriftBlocked) as blocked:
        executor.apply_policy([report], policy="block", report_dir=str(published))
    outcome = RunOutcome(
        pipeline_name="p",
        run_id="r1",
        root=tmp_path,
        metadata=str(tmp_path / "metadata.sqlite"),
        nodes=[NodeOutcome("DataDrift", "failed", 1.0, error=str(blocked.value))],
    )
    summary = summarize(outcome, metadata=metadata, curated_schema=True)
    assert summary.drift is not None
    assert summary.drift["blessed"] is False and summary.drift["policy"] == "block"
    [drift] = summary.drift["reports"]
    assert "score" in drift["drifted"]
    assert summary.drift["report"].endswith(f"DataDrift/blocked/{execution_id}/drift_report.html")
    assert strict_loads(summary.to_json())["drift"]["reports"][0]["drifted"]["score"]
    assert "drift: BLOCKED (policy block)" in render(summary)


def test_quarantine_keeps_invalid_utf8_bytes_exactly():
    raw = b"7,1.0,caf\xe9 \xff"
    data = b"id,fare,company\n1,2.5,A\n" + raw + b"\n"
    rules = {"id": col.ColumnRule(col.INT), "fare": col.ColumnRule(col.FLOAT), "company": col.ColumnRule(col.BYTES)}
    result = ingest([("in.csv", data)], data_format="csv", splits={"train": 2, "eval": 1}, rules=rules, max_bad_rows=1)
    [bad] = result.bad_rows
    assert bad.raw_line == "7,1.0,caf\ufffd \ufffd"  # a readable preview
    assert base64.b64decode(bad.raw_base64) == raw == bad.raw  # and the exact bytes
    [back] = from_jsonl(to_jsonl(result.bad_rows))
    assert back.raw == raw


def test_quarantine_of_a_utf8_row_stays_plain_text():
    bad = BadRow.of("in.csv", 3, None, "expected 3 columns, found 2", "2,café".encode())
    assert bad.raw_line == "2,café" and bad.raw_base64 is None
    assert json.loads(to_jsonl([bad]))["raw_line"] == "2,café"
