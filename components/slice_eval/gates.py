"""Judging a model per slice: absolute thresholds, gaps between slices, regression vs the baseline.

Pure Python on plain data (no TFX/TFMA import): the executor loads TFMA's
metrics into `SliceMetrics` and calls `judge`. A slice with fewer than
`min_examples` examples is reported as "too small to judge" and never gates; a
metric TFMA could not define on a slice (AUC where every label is the same)
is reported as undefined and does not gate either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from tfxgate.components.slice_eval.label_kinds import BINARY_LABEL, LabelKind, metric_info
from tfxgate.components.slice_eval.settings import EvaluationStage, MetricGate

OVERALL = "Overall"
TOO_SMALL = "too small to judge"


@dataclass
class SliceMetrics:
    """One slice's metrics for the candidate (and the baseline, when there is one)."""

    slicing: tuple[str, ...]  # () for overall, else the feature keys
    name: str  # "Overall" or "payment_type=Cash"
    values: dict[str, float]
    baseline: Optional[dict[str, float]] = None
    key: tuple = ()  # TFMA's slice key: (("payment_type", b"Cash"),); () overall

    @property
    def example_count(self) -> int:
        return int(self.values.get("example_count", 0))


@dataclass
class Failure:
    """One failed gate, with the facts a user needs to act on it."""

    gate: str  # min | max | max_regression | max_gap
    slice: str
    metric: str
    value: float
    threshold: float
    message: str
    baseline: Optional[float] = None


@dataclass
class Verdict:
    """What `judge` decided: blessed or not, and why."""

    blessed: bool
    has_baseline: bool
    failures: list[Failure] = field(default_factory=list)
    too_small: list[str] = field(default_factory=list)
    undefined: list[str] = field(default_factory=list)

    @property
    def failing_slices(self) -> list[str]:
        return list(dict.fromkeys(f.slice for f in self.failures))

    def headline(self) -> str:
        against = (
            "against the baseline" if self.has_baseline else "without a baseline (absolute thresholds and gaps only)"
        )
        if self.blessed:
            return f"BLESSED, judged {against}"
        return f"NOT blessed, judged {against}: " + "; ".join(f.message for f in self.failures)


def _defined(value: Optional[float]) -> bool:
    return value is not None and not math.isnan(value)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def judge(slices: list[SliceMetrics], stage: EvaluationStage) -> Verdict:
    """Applies every gate of `stage` to `slices` and returns the verdict."""
    has_baseline = any(s.baseline is not None for s in slices)
    verdict = Verdict(blessed=True, has_baseline=has_baseline)
    judged = []
    for item in slices:
        overall = item.slicing == ()
        if not overall and item.example_count < stage.min_examples:
            verdict.too_small.append(item.name)
            continue
        judged.append(item)
        gates = dict(stage.thresholds)
        if overall:
            gates.update(stage.overall)
        for metric, gate in gates.items():
            value = item.values.get(metric)
            if not _defined(value):
                verdict.undefined.append(f"{item.name}: {metric}")
                continue
            base = (item.baseline or {}).get(metric)
            verdict.failures += _absolute(item, metric, value, gate, base)
            if _defined(base):
                verdict.failures += _regression(item, metric, value, gate, base)
    verdict.failures += _gaps(judged, stage)
    verdict.blessed = not verdict.failures
    return verdict


def _absolute(item: SliceMetrics, metric: str, value: float, gate: MetricGate, base) -> list[Failure]:
    n = f"n={item.example_count}"
    if gate.min is not None and value < gate.min:
        message = f"{item.name}: {metric} {_fmt(value)} < min {_fmt(gate.min)} ({n})"
        return [Failure("min", item.name, metric, value, gate.min, message, base)]
    if gate.max is not None and value > gate.max:
        message = f"{item.name}: {metric} {_fmt(value)} > max {_fmt(gate.max)} ({n})"
        return [Failure("max", item.name, metric, value, gate.max, message, base)]
    return []


def _regression(item: SliceMetrics, metric: str, value: float, gate: MetricGate, base: float) -> list[Failure]:
    if gate.max_regression is None:
        return []
    higher_is_better = metric_info(metric).higher_is_better
    drop = (base - value) if higher_is_better else (value - base)
    if drop <= gate.max_regression + 1e-12:
        return []
    message = (
        f"{item.name}: {metric} {_fmt(value)} regressed by {_fmt(drop)} vs baseline {_fmt(base)}"
        f" (max_regression {_fmt(gate.max_regression)})"
    )
    return [Failure("max_regression", item.name, metric, value, gate.max_regression, message, base)]


def _gaps(judged: list[SliceMetrics], stage: EvaluationStage) -> list[Failure]:
    failures = []
    for gap in stage.max_gap:
        group = [
            s for s in judged if set(s.slicing) == set(gap.slice) and s.slicing and _defined(s.values.get(gap.metric))
        ]
        if len(group) < 2:
            continue
        ranked = sorted(group, key=lambda s: s.values[gap.metric])
        worst, best = ranked[0], ranked[-1]
        spread = best.values[gap.metric] - worst.values[gap.metric]
        if spread > gap.max + 1e-12:
            slicing = ", ".join(gap.slice)
            message = (
                f"{slicing}: {gap.metric} gap {_fmt(spread)} between {best.name} ({_fmt(best.values[gap.metric])})"
                f" and {worst.name} ({_fmt(worst.values[gap.metric])}) > max_gap {_fmt(gap.max)}"
            )
            failures.append(Failure("max_gap", worst.name, gap.metric, spread, gap.max, message))
    return failures


def rows(
    slices: list[SliceMetrics], verdict: Verdict, stage: EvaluationStage, label: LabelKind = BINARY_LABEL
) -> list[dict]:
    """Every slice x metric with baseline, delta and the gates it failed, worst slice first."""
    failed: dict[tuple[str, str], list[str]] = {}
    for f in verdict.failures:
        failed.setdefault((f.slice, f.metric), []).append(f.gate)
    too_small = set(verdict.too_small)
    out = []
    for item in slices:
        metrics = {}
        for metric in stage.computed_metrics(label):
            value = item.values.get(metric)
            base = (item.baseline or {}).get(metric)
            delta = value - base if _defined(value) and _defined(base) else None
            metrics[metric] = {
                "value": value if _defined(value) else None,
                "baseline": base if _defined(base) else None,
                "delta": delta,
                "failed_gates": failed.get((item.name, metric), []),
            }
        status = TOO_SMALL if item.name in too_small else ("failed" if item.name in verdict.failing_slices else "ok")
        out.append({"slice": item.name, "slicing": list(item.slicing), "status": status, "metrics": metrics})
    order = {"failed": 0, "ok": 1, TOO_SMALL: 2}
    return sorted(out, key=lambda r: (order[r["status"]], _sort_value(r, stage)))


def _sort_value(row: dict, stage: EvaluationStage) -> float:
    """Worst first: the lowest value of the first gated higher-is-better metric."""
    gated = [m for m in (*stage.thresholds, *stage.overall) if metric_info(m).higher_is_better] or ["binary_accuracy"]
    value = row["metrics"].get(gated[0], {}).get("value")
    return value if value is not None else math.inf


def report_data(rows: list[dict], verdict: Verdict, *, metrics: list[str], baseline_uri: Optional[str]) -> dict:
    """The JSON document: the verdict, then every slice with its metrics, worst first."""
    return {
        "blessed": verdict.blessed,
        "headline": verdict.headline(),
        "baseline_model": baseline_uri,
        "failures": [vars(f) for f in verdict.failures],
        "failing_slices": verdict.failing_slices,
        "too_small_to_judge": verdict.too_small,
        "undefined": verdict.undefined,
        "metrics": metrics,
        "slices": rows,
    }
