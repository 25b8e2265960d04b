"""Short sentences about evidence, shared by `tfxgate lineage` and the model card.

Pure functions over the `Evidence` tree (tfxgate/lineage/evidence.py): one place
decides how a gate, a drift result or a decision is worded, so the terminal
tree and the card never disagree. Values are returned as plain text; callers
escape for HTML.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from tfxgate.artifacts.drift_report import Drift
from tfxgate.artifacts.evaluation import Evaluation
from tfxgate.artifacts.examples import Examples
from tfxgate.mlmd.audit import Record

OVERALL = "Overall"  # SliceEval's name for the whole eval split


@dataclass
class GateCheck:
    metric: str
    value: Optional[float]
    baseline: Optional[float]
    delta: Optional[float]
    gate: str  # "min 0.5, max_regression 0.05"
    failed: list[str]  # the gates this metric failed on this slice


@dataclass
class SliceGates:
    slice: str
    status: str  # ok | failed | too small to judge
    examples: Optional[float]
    checks: list[GateCheck]


def number(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def gate_text(gate: dict) -> str:
    """{min: 0.5, max: None, max_regression: 0.05} -> "min 0.5, max_regression 0.05"."""
    return ", ".join(
        f"{name} {number(gate[name])}" for name in ("min", "max", "max_regression") if gate.get(name) is not None
    )


def slice_gates(evaluation: Evaluation) -> list[SliceGates]:
    """Every slice with its gated metrics, failed slices first, then worst value first."""
    rows = []
    for row in evaluation.slices:
        gates = dict(evaluation.thresholds)
        if row["slice"] == OVERALL:
            gates.update(evaluation.overall_thresholds)
        checks = []
        for metric, gate in gates.items():
            entry = row["metrics"].get(metric, {})
            checks.append(
                GateCheck(
                    metric=metric,
                    value=entry.get("value"),
                    baseline=entry.get("baseline"),
                    delta=entry.get("delta"),
                    gate=gate_text(gate),
                    failed=list(entry.get("failed_gates", [])),
                )
            )
        examples = row["metrics"].get("example_count", {}).get("value")
        rows.append(SliceGates(row["slice"], row["status"], examples, checks))
    order = {"failed": 0, "ok": 1}
    return sorted(rows, key=lambda r: (order.get(r.status, 2), _first_value(r)))


def _first_value(row: SliceGates) -> float:
    values = [c.value for c in row.checks if c.value is not None]
    return values[0] if values else math.inf


def check_text(check: GateCheck) -> str:
    text = f"{check.metric} {number(check.value)} ({check.gate})"
    if check.baseline is not None:
        text += f", baseline {number(check.baseline)} ({check.delta:+.4f})"
    if check.failed:
        text += f" FAILED {', '.join(check.failed)}"
    return text


def evaluation_headline(evaluation: Evaluation) -> str:
    verdict = "BLESSED" if evaluation.blessed else "NOT blessed"
    baseline = evaluation.baseline_model
    against = f"against baseline {baseline}" if baseline else "without a baseline (absolute thresholds and gaps only)"
    return f"{verdict}, judged {against}"


def examples_text(examples: Examples) -> str:
    span = "-" if examples.span is None else examples.span
    version = "-" if examples.version is None else examples.version
    rows = ", ".join(f"{split} {count}" for split, count in examples.rows_per_split.items()) or "unknown"
    bad = "unknown" if examples.bad_rows is None else examples.bad_rows
    return f"span {span}, version {version}; rows {rows}; bad rows {bad}"


def fingerprint_lines(examples: Examples) -> list[str]:
    lines = [f"{Path(path).name}  sha256 {digest}  ({path})" for path, digest in sorted(examples.input_files.items())]
    if not lines and examples.input_fingerprint:
        lines.append(f"fingerprint {examples.input_fingerprint}")
    return lines


def drift_text(drift: Drift) -> str:
    state = {True: "passed", False: "FAILED", None: "no blessing recorded"}[drift.blessed]
    policy = f", policy {drift.policy}" if drift.policy else ""
    if not drift.comparisons:
        return f"{state}{policy}: nothing to compare against (first span, no serving data)"
    parts = []
    for comparison in drift.comparisons:
        drifted = ", ".join(d["feature"] for d in comparison["drifted"]) or "none"
        counts = f"{len(comparison['drifted'])} of {comparison['features_compared']}"
        parts.append(f"{comparison['kind']}: {counts} features drifted ({drifted})")
    return f"{state}{policy}; " + "; ".join(parts)


def decision_text(record: Record) -> str:
    """ "approval by alice at 2026-..: 'reason' (production, version 7)"."""
    who = f" by {record.by}" if record.by else ""
    when = f" at {record.at}" if record.at else ""
    why = f": {record.reason!r}" if record.reason else ""
    where = ", ".join(x for x in (record.destination, f"version {record.version}" if record.version else None) if x)
    return f"{record.decision.replace('_', ' ')}{who}{when}{why}" + (f" ({where})" if where else "")


def values_text(values: Optional[dict[str, Any]]) -> str:
    """{learning_rate: 0.03, units: 16} -> "learning_rate=0.03, units=16" (sorted by name)."""
    if values is None:
        return "best_hyperparameters.txt not found"
    return ", ".join(f"{name}={number(v)}" for name, v in sorted(values.items())) or "no values"


def trial_text(trial: dict[str, Any]) -> str:
    """One Tuner trial: "trial 1: score 0.4264 with learning_rate=0.03, units=16"."""
    values = {k: v for k, v in trial.items() if k not in ("trial_id", "score")}
    return f"trial {trial.get('trial_id')}: score {number(trial.get('score'))} with {values_text(values)}"
