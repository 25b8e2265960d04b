"""Property: a version appears at the destination iff every gate is blessed and the policy is satisfied.

Hypothesis draws gate outcomes (blessed / not blessed / artifact missing) for
the configured gates, the destination's approval policy and the human decision,
and drives the real decide-and-publish path (`policy.carry_out`) on a real
temporary filesystem, several pushes in a row onto one destination.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tfxgate.governance import gates, policy, publish

GATE_NAMES = ["ingestion", "validation", "drift", "evaluation", "infra"]
OUTCOMES = st.sampled_from(["blessed", "not blessed", "missing"])


def evidence_for(outcomes: dict[str, str]) -> dict:
    props = {"blessed": {"blessed": 1}, "not blessed": {"blessed": 0}}
    evidence = {}
    for gate, outcome in outcomes.items():
        # Ingestion has no blessing: its artifact existing is the pass, so "not blessed" is no artifact.
        if outcome == "missing" or (gate == "ingestion" and outcome == "not blessed"):
            continue
        evidence[gate] = {"span": 0} if gate == "ingestion" else props[outcome]
    return evidence


def tree(path: Path) -> dict[str, bytes]:
    """The model files under `path` (a version's manifest is not part of the model)."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name != publish.MANIFEST)
    return {str(p.relative_to(path)): p.read_bytes() for p in files}


push_attempt = st.tuples(
    st.dictionaries(st.sampled_from(GATE_NAMES), OUTCOMES, min_size=1),
    st.sampled_from(["auto", "manual"]),
    st.sampled_from([None, "approved", "rejected"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(push_attempt, min_size=1, max_size=4))
def test_version_appears_iff_all_gates_blessed_and_policy_satisfied(attempts):
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model"
        (model / "variables").mkdir(parents=True)
        (model / "saved_model.pb").write_bytes(b"graph")
        (model / "variables" / "data").write_bytes(b"weights" * 100)
        destination = Path(tmp) / "root" / "production"
        published = []
        for outcomes, approval, decision in attempts:
            results = gates.judge(evidence_for(outcomes), required=list(outcomes))
            should_push = all(o == "blessed" for o in outcomes.values()) and (
                approval == "auto" and decision != "rejected" or decision == "approved"
            )
            before = publish.versions(destination)
            action, done = policy.carry_out(
                model, destination, gates=results, approval=approval, decision=decision, root=Path(tmp) / "root"
            )
            after = publish.versions(destination)
            assert (action == "push") == should_push
            if should_push and published:  # the same model again: its version is reused, never a second one
                assert done.reused and done.version == published[0] and after == before
            elif should_push:
                assert after == [*before, done.version] and publish.current_version(destination) == done.version
                assert not done.reused
                published.append(done.version)
            else:
                assert done is None and after == before
        # Never a partial version: every visible version is the whole model, nothing else is visible.
        if destination.exists():
            for version in publish.versions(destination):
                assert tree(destination / version) == tree(model)
                assert publish.read_manifest(destination / version)["version"] == version
            assert sorted(p.name for p in destination.iterdir() if not p.name.startswith(".")) == sorted(
                [*published, "current"] if published else []
            )
        else:
            assert published == []
