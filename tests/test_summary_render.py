"""The run summary the CLI prints: validation anomalies and the drift verdict (pure rendering, no run)."""

from __future__ import annotations

from tfxgate.reporting.summary import RunSummary, render


def summary(**fields) -> RunSummary:
    base = dict(pipeline="taxi", run_id="r1", succeeded=True, seconds=1.0, metadata="m.sqlite", metadata_kind="sqlite")
    return RunSummary(**{**base, **fields})


def test_anomalies_are_listed_with_their_policy_and_verdict():
    text = render(
        summary(
            anomalies={"train": ["company: ENUM_TYPE_UNEXPECTED_STRING_VALUES: Examples contain 'X' (policy warn)"]},
            validation_blessed=True,
        )
    )
    assert "  validation: 1 anomalies (passed)" in text
    assert "    - train: company: ENUM_TYPE_UNEXPECTED_STRING_VALUES: Examples contain 'X' (policy warn)" in text


def test_drift_verdict_names_features_and_the_measures_that_fired():
    drift = {
        "blessed": False,
        "policy": "warn",
        "report": "/r/drift_report.html",
        "reports": [{"kind": "drift", "baseline": "Examples 3", "compared": 18, "drifted": {"fare": ["ks", "psi"]}}],
    }
    text = render(summary(drift=drift))
    assert "  drift: BLOCKED (policy warn)" in text
    assert "    drift vs Examples 3: 18 features, drifted: fare (ks, psi)" in text
    assert "    report: /r/drift_report.html" in text
    assert "drift: not checked (no previous span" in render(summary(drift={"blessed": True, "reports": []}))
    drift.update(blessed=True)
    assert "  drift: drift found, continuing (policy warn)" in render(summary(drift=drift))


def test_schema_proposal_says_how_to_adopt_it():
    text = render(summary(schema_proposal="/root/runs/r1/schema.pbtxt"))
    assert "schema: none configured; inferred one proposed at /root/runs/r1/schema.pbtxt" in text
    assert "tfxgate schema adopt /root/runs/r1" in text
