"""The model card renderers: what the card says, that every text is escaped, that the HTML stands alone."""

from __future__ import annotations

import re

import pytest

from tests.conftest import TAXI_CONFIG
from tests.governed_store import build
from tfxgate.lineage.evidence import collect
from tfxgate.mlmd import audit
from tfxgate.pipelines.config.root import ConfigError, load_config
from tfxgate.reporting import model_card
from tfxgate.reporting.model_card_settings import ModelCardInfo

INFO = ModelCardInfo(
    intended_use="Rank taxi rides by tip likelihood. <script>alert(1)</script>",
    limitations=["Cash tips are not recorded", "Chicago only & 2019 data"],
    owners=["ml-platform@example.com"],
)


@pytest.fixture(scope="module")
def governed(tmp_path_factory):
    return build(tmp_path_factory.mktemp("governed"))


@pytest.fixture(scope="module")
def card(governed, tmp_path_factory):
    out = tmp_path_factory.mktemp("card")
    evidence = collect(governed.store, model_artifact_id=governed.model_id)
    md, page = model_card.write(out, evidence=evidence, card_info=INFO)
    return out, md.read_text(), page.read_text()


def test_card_states_data_schema_drift_and_approval(card):
    _, md, _ = card
    assert md.startswith("# Model card: taxi version 7\n")
    for expected in (
        "Rank taxi rides by tip likelihood.",
        "- Cash tips are not recorded",
        "- ml-platform@example.com",
        "span 3, version 2; rows train 200, eval 100; bad rows 3",
        "Rows read: 303; quarantined bad rows: 3",
        "| /data/taxi/span-3.csv | " + "ab" * 32 + " |",
        "2 features (schema artifact",
        "| fare | FLOAT |",
        "Validation passed: 1 anomalies.",
        "1 of 2 features drifted (fare)",
        "| fare | psi 0.3 (max 0.2) |",
        "- approval by alice at 2026-11-25T11:00:00+00:00: 'Q3 &lt;review&gt; ok' (production)",
        "- rollback by bob at 2026-11-26T09:00:00+00:00: '8 misbehaves' (production, version 7)",
    ):
        assert expected in md, expected


def test_card_lists_slices_worst_first_with_thresholds_and_gates(card):
    _, md, _ = card
    assert "- binary_accuracy: min 0.5, max_regression 0.05 (every slice)" in md
    assert "- auc: min 0.85, max_regression 0.02 (overall only)" in md
    assert "- gap in binary_accuracy across payment_type: at most 0.4" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and "binary_accuracy" in line]
    assert [row.split(" | ")[0] for row in rows] == [
        r"| payment_type=&lt;b&gt;Cash&lt;/b&gt; \| x",  # 0.62: worst first
        "| Overall",
        "| payment_type=Dispute",  # too small to judge: last
    ]
    assert "| Overall | ok | 1000 | auc | 0.93 | min 0.85, max_regression 0.02 | 0.92 | +0.0100 |  |" in md
    assert "Gate results as recorded by the push:" in md
    assert "| drift | passed | blessed |" in md


def test_every_text_is_escaped(card):
    _, md, page = card
    for text in (md, page):
        assert "<script>" not in text and "<b>Cash" not in text and "<review>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "payment_type=&lt;b&gt;Cash&lt;/b&gt; | x" in page
    assert "Chicago only &amp; 2019 data" in page


def test_html_is_self_contained(card):
    _, _, page = card
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"<script|<link|<img|<iframe|src=|href=|url\(|https?://", page)


def test_card_files_are_complete_and_nothing_else_is_left(card):
    out, _, _ = card
    assert sorted(p.name for p in out.iterdir()) == ["model_card.html", "model_card.md"]


def test_no_environment_value_reaches_the_card(governed, tmp_path, monkeypatch):
    monkeypatch.setenv("MLMD_PASSWORD", "hunter2-secret")
    evidence = collect(governed.store, model_artifact_id=governed.model_id)
    md, page = model_card.write(tmp_path, evidence=evidence, card_info=INFO)
    assert "hunter2-secret" not in md.read_text() + page.read_text()


def test_card_before_the_push_is_recorded_shows_the_decision_being_made(governed, tmp_path):
    # What the governed push does: the card is written before its own Push execution exists.
    evidence = collect(governed.store, model_artifact_id=governed.second_model_id)
    decision = audit.Record(
        None,
        audit.PUSH,
        by="carol",
        version="9",
        destination="staging",
        at="2026-11-27T08:00:00+00:00",
        gates='{"evaluation": {"passed": true, "detail": "ok"}}',
    )
    md, _ = model_card.write(tmp_path, evidence=evidence.with_decision(decision), card_info=None)
    text = md.read_text()
    assert text.startswith("# Model card: taxi version 9\n")
    assert "- push by carol at 2026-11-27T08:00:00+00:00 (staging, version 9)" in text
    assert "Not stated in stages.push.model_card." in text


def test_gates_come_from_the_evidence_when_no_push_recorded_them(governed, tmp_path):
    evidence = collect(governed.store, model_artifact_id=governed.second_model_id)
    md, _ = model_card.write(tmp_path, evidence=evidence, card_info={"intended_use": "x"})
    text = md.read_text()
    assert "Gate results from the evidence (no push record with gate results):" in text
    assert "| drift | FAILED | drift blessing artifact" in text
    assert "| validation | FAILED | no anomalies recorded |" in text
    assert "| evaluation | passed | model blessing artifact" in text
    assert "Baseline model: " in text and text.count("| auc | 0.93 | 0.92 | +0.0100 |") == 1


def test_config_takes_a_model_card_section():
    config = load_config(
        TAXI_CONFIG,
        overrides=[
            "stages.push.model_card.intended_use=Tip ranking",
            "stages.push.model_card.owners=[ml-platform]",
        ],
    )
    assert config.stages.push.model_card == ModelCardInfo(intended_use="Tip ranking", owners=["ml-platform"])
    assert load_config(TAXI_CONFIG).stages.push.model_card == ModelCardInfo()


def test_config_refuses_unknown_model_card_keys():
    with pytest.raises(ConfigError, match=r"stages\.push\.model_card\.intended_usage"):
        load_config(TAXI_CONFIG, overrides=["stages.push.model_card.intended_usage=x"])
