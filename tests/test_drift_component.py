"""The DataDrift component's parts: baseline span choice, thresholds from the schema, policy, HTML report."""

from __future__ import annotations

import json
import logging

import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from tests import synthetic_drift
from tfxgate.components.drift import executor, report_payload
from tfxgate.drift.check import compare_tables

CATEGORICAL = {"city", "channel"}


def drifted_report():
    base = synthetic_drift.base_table(rows=2000, seed=0)
    shifted = synthetic_drift.shifted_table(base, drift={"score": "mean_shift", "city": "new_category"}, seed=1)
    return compare_tables(base, shifted, categorical=CATEGORICAL), base, shifted


def examples(artifact_id: int, span: int, *, spanned=None):
    from tfx.types import standard_artifacts

    artifact = standard_artifacts.Examples()
    artifact.id = artifact_id
    artifact.span = span
    if spanned is not None:  # what Ingest records; other ExampleGens leave it unset
        artifact.set_int_custom_property("spanned", int(spanned))
    return artifact


def test_previous_span_is_the_latest_earlier_span_else_the_previous_ingestion():
    from tfxgate.components.drift.component import previous_span

    a, b, c, d = examples(1, 1), examples(2, 2), examples(3, 2), examples(4, 3)
    assert previous_span([a, b, c, d], [d]).id == 3  # span 2, the later of the two
    assert previous_span([a, b, c, d], [b]).id == 1
    # Unspanned input (every span 0): the previous ingestion, never the current one or a later one.
    x, y, z = examples(5, 0), examples(6, 0), examples(7, 0)
    assert previous_span([x, y, z], [y]).id == 5
    assert previous_span([x], [x]) is None
    assert previous_span([x, y], []) is None


def test_a_rerun_of_the_same_span_never_takes_its_earlier_ingestion_as_baseline():
    """The issue's case: span 2020 ingested with 'NA' as strings, then again fixed; the fix must not
    be compared with the broken ingestion of the same span."""
    from tfxgate.components.drift.component import previous_span

    broken, fixed = examples(2, 2020, spanned=True), examples(3, 2020, spanned=True)
    assert previous_span([broken, fixed], [fixed]) is None
    older = examples(1, 2019, spanned=True)
    assert previous_span([older, broken, fixed], [fixed]).id == 1
    # Span 0 of a {SPAN} pattern is a span like any other.
    first, again = examples(4, 0, spanned=True), examples(5, 0, spanned=True)
    assert previous_span([first, again], [again]) is None
    # Ingest's unspanned input: still the previous ingestion.
    one, two = examples(6, 0, spanned=False), examples(7, 0, spanned=False)
    assert previous_span([one, two], [two]).id == 6
    # Another ExampleGen's Examples of span > 0 without the property: spanned.
    assert previous_span([examples(8, 4), examples(9, 4)], [examples(9, 4)]) is None


def test_schema_comparators_set_linf_and_jsd_per_feature_over_config_defaults():
    schema = text_format.Parse(
        """
        feature { name: "city" type: BYTES drift_comparator { infinity_norm { threshold: 0.5 } } }
        feature { name: "score" type: FLOAT skew_comparator { jensen_shannon_divergence { threshold: 0.3 } } }
        """,
        schema_pb2.Schema(),
    )
    settings = executor.Settings(policy="block", thresholds={"linf": 0.1, "jsd": 0.1}, features={"score": {"ks": 0.4}})
    drift = executor.thresholds_for(settings, schema, kind="drift")
    assert drift.get("city", "linf") == 0.5 and drift.get("score", "jsd") == 0.1
    assert drift.get("score", "ks") == 0.4
    skew = executor.thresholds_for(settings, schema, kind="skew")
    assert skew.get("score", "jsd") == 0.3 and skew.get("city", "linf") == 0.1


def test_block_policy_raises_naming_features_and_measures_and_keeps_the_report(tmp_path):
    report, base, shifted = drifted_report()
    output = tmp_path / "DataDrift" / "drift_report" / "7"
    executor.write_report([report], {"drift": (base, shifted)}, output_dir=str(output), policy="block")
    with pytest.raises(executor.DriftBlocked) as err:
        executor.apply_policy([report], policy="block", report_dir=str(output))
    message = str(err.value)
    assert "drift: city (linf=" in message and "score (" in message and "ks=" in message
    assert "Policy 'block': stopping before training, nothing is pushed" in message
    kept = tmp_path / "DataDrift" / "blocked" / "7"
    assert f"(report: {kept}/drift_report.html)" in message
    assert (kept / "drift_report.html").is_file() and (kept / "drift_report.json").is_file()


def test_warn_and_retrain_log_and_continue(tmp_path, caplog):
    report, _, _ = drifted_report()
    with caplog.at_level(logging.WARNING):
        executor.apply_policy([report], policy="retrain", report_dir=str(tmp_path))
    assert "policy 'retrain': continuing" in caplog.text and "city" in caplog.text


def test_report_files_hold_every_feature_and_side_by_side_histograms(tmp_path):
    report, base, shifted = drifted_report()
    executor.write_report([report], {"drift": (base, shifted)}, output_dir=str(tmp_path), policy="block")
    payload = json.loads((tmp_path / "drift_report.json").read_text())
    [drift] = payload["reports"]
    assert drift["drifted_features"] == ["city", "score"]
    assert {f["feature"] for f in drift["features"]} == set(base)
    page = (tmp_path / "drift_report.html").read_text()
    assert page.count("<svg class='baseline'") == len(base) == page.count("<svg class='current'")
    assert "drifted features: <b>city, score</b>" in page
    assert synthetic_drift.NEW_CATEGORY in page  # the new value shows in the current histogram


def test_html_escapes_feature_values():
    base = {"c": synthetic_drift.base_table(rows=50)["city"]}
    cur = {"c": base["c"].copy()}
    cur["c"][0] = "<script>"
    page = report_payload.render([compare_tables(base, cur, categorical={"c"})], {"drift": (base, cur)}, title="t")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_html_shows_n_and_p_beside_the_measures_and_the_schema_changes(tmp_path):
    report, base, shifted = drifted_report()
    page = report_payload.render([report], {"drift": (base, shifted)}, title="t")
    assert "<th>n</th><th>p (q)</th>" in page
    assert "<td>2000 / 2000</td>" in page  # city: every row has a value on both sides
    assert "distribution (ks): " in page and "distribution (chi_square): " in page and "missing (fisher): " in page
    changed = compare_tables(
        {"age": base["score"].astype(str).astype(object)},
        {"age": base["score"]},
        categorical=set(),
        baseline_categorical={"age"},
        baseline_name="Examples 3",
        current_name="Examples 5",
    )
    page = report_payload.render([changed], {"drift": ({}, {})}, title="t")
    assert "schema change: age is string in Examples 3, numeric in Examples 5" in page
    assert "drifted features: <b>age</b>" in page


def test_a_type_change_between_artifacts_is_reported_and_blocks_naming_both(tmp_path):
    """DataDrift's run on real Arrow copies: the baseline's column is strings, the current one's numbers."""
    import pyarrow as pa
    import pyarrow.feather as feather

    def write(uri, age):
        (uri / "arrow").mkdir(parents=True)
        table = pa.table({"age": pa.array([[v] for v in age]), "city": pa.array([[b"a"], [b"b"], [b"a"]])})
        feather.write_feather(table, str(uri / "arrow" / "Split-train.arrow"))

    write(tmp_path / "base", [b"31", b"NA", b"40"])
    write(tmp_path / "cur", [31.0, None, 40.0])
    settings = executor.Settings(policy="block", thresholds={}, features={})
    reports, blessed = executor.run(
        examples_uri=str(tmp_path / "cur"),
        examples_name="Examples 5 (span 2, 5)",
        baselines={executor.DRIFT: (str(tmp_path / "base"), "Examples 3 (span 2, 3)")},
        schema=None,
        settings=settings,
        output_dir=str(tmp_path / "out"),
    )
    assert not blessed and reports[0].flagged == ["age"]
    with pytest.raises(executor.DriftBlocked, match=r"age \(schema change: string in Examples 3 \(span 2, 3\), "):
        executor.apply_policy(reports, policy="block", report_dir=str(tmp_path / "out"))
