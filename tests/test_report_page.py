"""The run report page from collected facts: every section, escaping, "not recorded", drift reuse.

Pure tests on `RunReport` dicts (no TFX, no store); the real run's report is
checked in tests/test_report_e2e.py and in a browser in tests/test_report_browser.py.
"""

from __future__ import annotations

import json

from tests import synthetic_drift
from tfxgate.components.drift import executor
from tfxgate.drift.check import compare_tables
from tfxgate.reporting import charts, drift_html
from tfxgate.reporting import run_page as page
from tfxgate.reporting.run_facts import RunReport


def stages():
    return [
        {"node": "Ingest", "state": "complete", "start": 0.0, "seconds": 2.0, "execution_id": 1},
        {"node": "Trainer", "state": "cached", "start": 2.5, "seconds": 0.1, "execution_id": 2},
        {"node": "SliceEval", "state": "failed", "start": 3.0, "seconds": 4.0, "execution_id": 3},
    ]


def bare_report(**sections) -> RunReport:
    return RunReport(
        pipeline="taxi",
        run_id="2026-01-01T00:00:00",
        metadata="/m.sqlite",
        succeeded=True,
        seconds=7.0,
        stages=stages(),
        **sections,
    )


def test_absent_governance_sections_say_not_recorded():
    html = page.render(bare_report())
    for section in ("data", "anomalies", "drift", "slice-evaluation", "gates", "decisions", "pushes", "lineage"):
        body = html.split(f"<section id='{section}'>")[1].split("</section>")[0]
        assert "not recorded" in body, section
    assert "<script" not in html and "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_gates_approvals_and_push_are_shown_from_the_governance_records():
    report = bare_report(
        gates={"ingestion": {"passed": True, "detail": "0 bad rows"}, "drift": {"passed": False, "detail": "fare"}},
        approvals=[
            {
                "kind": "Approval",
                "by": "ana",
                "at": "2026-01-02T10:00:00Z",
                "destination": "production",
                "version": "17",
                "reason": "looks <fine>",
                "run_id": "r",
                "pipeline": "taxi",
                "execution_id": 9,
                "gates": None,
            }
        ],
        push={
            "pushed": True,
            "destination": "/srv/staging/3",
            "version": "3",
            "destination_name": "staging",
            "uri": "/a",
        },
        pushes=[
            {
                "destination": "staging",
                "version": "3",
                "path": "/srv/staging/3",
                "by": "policy:auto",
                "at": "2026-01-02T09:00:00Z",
                "how": "automatic",
                "state": "",
            },
            {
                "destination": "production",
                "version": "17",
                "path": "/srv/taxi/17",
                "by": "ana",
                "at": "2026-01-02T10:00:01Z",
                "how": "approved",
                "state": "",
            },
        ],
    )
    html = page.render(report)
    gates = html.split("<section id='gates'>")[1].split("</section>")[0]
    assert "<td>ingestion</td><td>passed</td><td>0 bad rows</td>" in gates
    assert "drift</td><td><b class='fail'>FAILED</b></td><td>fare" in gates
    approval = html.split("<section id='decisions'>")[1].split("</section>")[0]
    assert "ana" in approval and "looks &lt;fine&gt;" in approval and "<fine>" not in approval
    pushes = html.split("<section id='pushes'>")[1].split("</section>")[0]
    assert "pushed (staging) version 3 to <code>/srv/staging/3</code> &middot; automatic, by policy:auto" in pushes
    assert "pushed (production) version 17 to <code>/srv/taxi/17</code> &middot; approved, by ana at 2026" in pushes
    assert "<b>staging version 3, production version 17</b>" in html  # the key figures name both


def test_text_from_the_store_is_escaped():
    report = bare_report(
        data={
            "uri": "/e",
            "span": 0,
            "rows_read": 3,
            "bad_rows": 1,
            "input_files": {"/d/<x>.csv": "ab"},
            "splits": {"train": {"rows": 2}},
            "quarantine": "/q",
            "quarantined": [{"file": "a.csv", "row": 3, "column": "fare", "reason": "not a float: '<img>'"}],
        },
    )
    html = page.render(report)
    assert "<img>" not in html and "&lt;img&gt;" in html and "/d/&lt;x&gt;.csv" in html


def test_timeline_draws_one_bar_per_stage_coloured_by_state():
    svg = charts.timeline_svg(stages())
    assert svg.count("<rect") == 3
    assert 'fill="#aab7b8"' in svg and 'fill="#c0392b"' in svg  # cached grey, failed red
    assert "7.0 s" in svg  # the axis ends at the run's length


def test_drift_section_is_drawn_from_drift_report_json_with_histograms(tmp_path):
    """The run report reuses the drift component's rendering on the stored JSON: same table, same histograms."""
    base = synthetic_drift.base_table(rows=500, seed=0)
    shifted = synthetic_drift.shifted_table(base, drift={"score": "mean_shift", "city": "new_category"}, seed=1)
    report = compare_tables(base, shifted, categorical={"city", "channel"})
    executor.write_report([report], {"drift": (base, shifted)}, output_dir=str(tmp_path), policy="block")
    stored = json.loads((tmp_path / "drift_report.json").read_text())
    [document] = stored["reports"]
    assert set(document["histograms"]) == set(base)
    html = page.render(
        bare_report(drift={"uri": "x", "policy": "block", "reports": stored["reports"], "blessed": False})
    )
    assert "drift BLOCKED (policy block)" in html
    assert html.count("<svg class='baseline'") == len(base) == html.count("<svg class='current'")
    assert synthetic_drift.NEW_CATEGORY in html
    # The component's own page shows the same section.
    assert drift_html.report_section(document) in (tmp_path / "drift_report.html").read_text()
