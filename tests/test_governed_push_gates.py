"""tfxgate/governance/gates.py and policy.py: evidence -> gate results -> action."""

from __future__ import annotations

import pytest

from tfxgate.governance.gates import GATES, all_passed, from_json, judge, to_json
from tfxgate.governance.policy import decide

ALL = ["ingestion", "validation", "drift", "evaluation"]
BLESSED = {
    "ingestion": {"span": 3, "bad_rows": 2},
    "validation": {"blessed": 1},
    "drift": {"blessed": 1},
    "evaluation": {"blessed": 1},
}


def test_every_gate_blessed_passes_with_readable_details():
    results = judge(BLESSED, required=ALL)
    assert [r.name for r in results] == ALL and all_passed(results)
    assert results[0].detail == "examples ingested (span 3, 2 bad rows quarantined) within the bad-row policy"


@pytest.mark.parametrize("gate", ALL)
def test_a_missing_artifact_fails_its_gate(gate):
    evidence = {k: v for k, v in BLESSED.items() if k != gate}
    [result] = [r for r in judge(evidence, required=ALL) if r.name == gate]
    assert not result.passed
    assert result.detail == f"no {gate} evidence for this run: a missing blessing fails"


@pytest.mark.parametrize("gate", ["validation", "drift", "evaluation"])
def test_blessed_zero_fails(gate):
    [result] = [r for r in judge({**BLESSED, gate: {"blessed": 0}}, required=ALL) if r.name == gate]
    assert not result.passed


@pytest.mark.parametrize("gate", ["drift", "evaluation"])
def test_a_blessing_without_the_property_fails(gate):
    [result] = [r for r in judge({**BLESSED, gate: {}}, required=ALL) if r.name == gate]
    assert not result.passed and "has no 'blessed' property" in result.detail


def test_stock_validator_without_blessed_is_judged_by_its_anomaly_count():
    assert judge({"validation": {"anomaly_count": 0}}, required=["validation"])[0].passed
    [found] = judge({"validation": {"anomaly_count": 3}}, required=["validation"])
    assert not found.passed and found.detail == "3 anomalies found"
    assert not judge({"validation": {"anomaly_count": None}}, required=["validation"])[0].passed


def test_infra_gate_only_when_required():
    assert len(judge(BLESSED, required=ALL)) == 4
    [infra] = judge(BLESSED, required=[*ALL, "infra"])[-1:]
    assert infra.name == "infra" and not infra.passed
    assert judge({"infra": {"blessed": 1}}, required=["infra"])[0].passed


def test_unknown_gate_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown gate 'fairness'"):
        judge({}, required=["fairness"])


def test_no_gate_at_all_is_not_a_pass():
    assert not all_passed([])
    assert decide([], approval="auto") == "blocked"


def test_json_round_trip():
    results = judge({**BLESSED, "drift": {"blessed": 0}}, required=GATES[:4])
    assert sorted(from_json(to_json(results)), key=lambda r: r.name) == sorted(results, key=lambda r: r.name)


@pytest.mark.parametrize(
    ("approval", "decision", "expected"),
    [
        ("auto", None, "push"),
        ("manual", None, "pending"),
        ("manual", "approved", "push"),
        ("manual", "rejected", "rejected"),
    ],
)
def test_policy_when_every_gate_passed(approval, decision, expected):
    assert decide(judge(BLESSED, required=ALL), approval=approval, decision=decision) == expected


@pytest.mark.parametrize("decision", [None, "approved", "rejected"])
def test_a_failed_gate_blocks_whatever_a_human_decides(decision):
    results = judge({**BLESSED, "drift": {"blessed": 0}}, required=ALL)
    assert decide(results, approval="manual", decision=decision) == "blocked"


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="unknown approval policy 'maybe'"):
        decide([], approval="maybe")


def test_per_split_blessing_of_the_stock_validator():
    assert judge({"validation": {"blessed": {"train": 1, "eval": 1}}}, required=["validation"])[0].passed
    [found] = judge({"validation": {"blessed": {"train": 1, "eval": 0}}}, required=["validation"])
    assert not found.passed and "eval" in found.detail
    assert not judge({"validation": {"blessed": {}}}, required=["validation"])[0].passed
