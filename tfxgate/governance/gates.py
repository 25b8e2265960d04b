"""Gate evidence -> one pass/fail result per gate. Pure: no TFX import.

A gate passes only when its artifact exists for this run *and* says so: a
missing artifact (the stage did not run, or its output was lost) is a failed
gate, never a pass. "Blessed" is decided by tfxgate/artifacts/blessing.py,
the one rule the summary, report and lineage use too. What each gate reads (see
docs/CONTRACTS.md):

- ingestion: the Ingest `examples` artifact. Ingest fails the run over the
  `max_bad_rows` policy, so an Examples artifact from this run is a pass.
- validation: ExampleAnomalies `blessed` == 1 (Validate), or 1 for every split
  (TFX 1.16's ExampleValidator writes `{"train": 1, "eval": 1}`); without that
  property, a pass iff the anomalies list nothing (`anomaly_count` 0, counted
  by the executor).
- drift: DriftBlessing `blessed` == 1.
- evaluation: ModelBlessing `blessed` == 1 (SliceEval).
- infra: InfraBlessing `blessed` == 1, only when an infra validator is wired in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from tfxgate.artifacts.blessing import is_blessed, validation_passed

GATES = ("ingestion", "validation", "drift", "evaluation", "infra")

# A gate's evidence: the artifact's custom properties, or None when there is no artifact.
Evidence = Optional[Mapping[str, Any]]


@dataclass(frozen=True)
class GateResult:
    """The verdict of one gate, with a line a reviewer can read."""

    name: str
    passed: bool
    detail: str


def judge(evidence: Mapping[str, Evidence], *, required: Sequence[str]) -> list[GateResult]:
    """One result per required gate, in `required` order.

    Args:
      evidence: gate name -> custom properties of its artifact (None or absent: no artifact).
      required: the gates this pipeline configures (unknown names are a programming error).

    Example:
      >>> judge({"drift": {"blessed": 1}}, required=["drift", "evaluation"])[1].passed
      False
    """
    results = []
    for name in required:
        if name not in GATES:
            raise ValueError(f"unknown gate {name!r} (known: {', '.join(GATES)})")
        found = evidence.get(name)
        if found is None:
            results.append(GateResult(name, False, f"no {name} evidence for this run: a missing blessing fails"))
        else:
            results.append(_JUDGES[name](dict(found)))
    return results


def all_passed(results: Sequence[GateResult]) -> bool:
    """True iff there is at least one gate and every gate passed."""
    return bool(results) and all(r.passed for r in results)


def failed(results: Sequence[GateResult]) -> list[str]:
    return [r.name for r in results if not r.passed]


def to_json(results: Sequence[GateResult]) -> str:
    """The `gates` property of audit records: gate name -> {"passed", "detail"}."""
    return json.dumps({r.name: {"passed": r.passed, "detail": r.detail} for r in results})  # pipeline order


def from_json(text: str) -> list[GateResult]:
    if not text:
        return []
    data = json.loads(text)
    return [GateResult(name, bool(v["passed"]), str(v["detail"])) for name, v in data.items()]


def _blessed(props: dict, name: str, what: str) -> GateResult:
    if "blessed" not in props:
        return GateResult(name, False, f"{what} has no 'blessed' property: treated as not blessed")
    ok = is_blessed(props["blessed"])
    return GateResult(name, ok, f"{what} {'blessed' if ok else 'NOT blessed'}")


def _ingestion(props: dict) -> GateResult:
    parts = [f"span {props['span']}" if "span" in props else None]
    if "bad_rows" in props:
        parts.append(f"{props['bad_rows']} bad rows quarantined")
    detail = ", ".join(p for p in parts if p) or "examples ingested"
    return GateResult("ingestion", True, f"examples ingested ({detail}) within the bad-row policy")


def _validation(props: dict) -> GateResult:
    count = props.get("anomaly_count")
    ok = validation_passed(props.get("blessed"), None if count is None else int(count))
    if "blessed" in props:
        return GateResult(
            "validation", ok, "no blocking anomaly" if ok else f"anomalies block the push ({props['blessed']})"
        )
    if count is None:
        return GateResult("validation", False, "anomalies artifact unreadable: treated as failed")
    return GateResult("validation", ok, "no anomalies" if ok else f"{count} anomalies found")


_JUDGES = {
    "ingestion": _ingestion,
    "validation": _validation,
    "drift": lambda p: _blessed(p, "drift", "data drift check"),
    "evaluation": lambda p: _blessed(p, "evaluation", "slice evaluation"),
    "infra": lambda p: _blessed(p, "infra", "infra validation"),
}
