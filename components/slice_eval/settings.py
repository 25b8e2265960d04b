"""The typed config of slice evaluation (`stages.evaluation` in a pipeline YAML).

Which slices to cut, which metrics to compute on each, and the gates a model
must pass to be blessed. `pipelines/config/root.py` plugs `EvaluationStage` into the
one typed config; `check_slice_features` and `check_metrics` run after the whole
config is loaded because they need the schema (or the data's header) to know the
feature names, and the label's kind (`data.label_kind`) to know the metrics.

No TensorFlow/TFMA import here (`tfxgate check` stays fast): metric names are
checked against the tables of `label_kinds.py`, which
`tests/test_slice_eval_settings.py` checks against the installed TFMA.
"""

from __future__ import annotations

import math
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tfxgate.components.slice_eval.label_kinds import BINARY, BINARY_ALWAYS, BINARY_LABEL, LabelKind, metric_info

# The binary table (TFMA class names checked against the installed TFMA in the tests).
METRICS = {name: tuple(metric) for name, metric in BINARY.items()}
ALWAYS = BINARY_ALWAYS
# Undefined on a slice whose labels are all one class (TFMA reports 0 or NaN there).
NEED_BOTH_CLASSES = ("auc", "auc_precision_recall")
# Metrics that take the decision threshold, with the keyword TFMA expects.
THRESHOLDED = {"binary_accuracy": "threshold", "precision": "thresholds", "recall": "thresholds"}
BY_CLASS = {metric.source: name for name, metric in BINARY.items()}


def metric_name(name: str) -> str:
    """A config metric (`auc` or `MeanLabel`) -> the name TFMA reports it under."""
    if name in METRICS:
        return name
    if name in BY_CLASS:
        return BY_CLASS[name]
    raise ValueError(f"unknown metric {name!r} (known: {', '.join(sorted(METRICS))}, or their TFMA class names)")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Buckets(_Model):
    """A numeric feature cut into value ranges: edges [0, 6, 12] -> [0,6), [6,12)."""

    feature: str
    buckets: list[float] = Field(min_length=2, description="Increasing bucket edges.")

    @field_validator("buckets")
    @classmethod
    def _increasing(cls, edges: list[float]) -> list[float]:
        if any(not math.isfinite(e) for e in edges) or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"bucket edges must be finite and strictly increasing, got {edges}")
        return edges

    @property
    def column(self) -> str:
        """The derived feature the evaluation slices on."""
        return f"{self.feature}_bucket"

    def label(self, value: float) -> str:
        """The bucket of `value` as shown in reports, e.g. `[6,12)`."""
        edges = self.buckets
        if value < edges[0]:
            return f"<{_fmt(edges[0])}"
        for low, high in zip(edges, edges[1:], strict=False):
            if value < high:
                return f"[{_fmt(low)},{_fmt(high)})"
        return f">={_fmt(edges[-1])}"


def _fmt(edge: float) -> str:
    return str(int(edge)) if float(edge).is_integer() else str(edge)


Slice = Union[list[str], Buckets]


def slice_features(spec: Slice) -> list[str]:
    """The raw features a slice reads."""
    return [spec.feature] if isinstance(spec, Buckets) else list(spec)


def slice_columns(spec: Slice) -> list[str]:
    """The feature keys TFMA slices on (a bucketed feature's derived column)."""
    return [spec.column] if isinstance(spec, Buckets) else list(spec)


class MetricGate(_Model):
    """Gate on one metric: absolute bounds and the largest allowed drop vs the baseline."""

    min: Optional[float] = None
    max: Optional[float] = None
    max_regression: Optional[float] = Field(default=None, ge=0, description="Largest allowed drop vs baseline.")

    @model_validator(mode="after")
    def _ordered(self) -> MetricGate:
        for name in ("min", "max", "max_regression"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if self.min is None and self.max is None and self.max_regression is None:
            raise ValueError("set at least one of min, max, max_regression")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class GapGate(_Model):
    """Largest allowed difference of a metric between the best and worst slice of one slicing."""

    slice: list[str] = Field(min_length=1, description="The slicing, e.g. [payment_type] or [trip_start_hour_bucket].")
    metric: str
    max: float = Field(ge=0)


class EvaluationStage(_Model):
    enabled: bool = True
    engine: Literal["fast", "beam"] = Field(
        default="fast",
        description="fast: one pass in process, for evaluation data that fits in memory;"
        " beam: TFMA on Beam, for bigger data (and the parity reference).",
    )
    slices: list[Slice] = Field(
        default_factory=lambda: [[]],
        description="[] overall, [f] one feature, [f, g] a cross, {feature, buckets} numeric ranges.",
    )
    metrics: list[str] = Field(default_factory=list, description="Extra TFMA/Keras metrics to compute per slice.")
    decision_threshold: float = Field(default=0.5, gt=0, lt=1)
    min_examples: int = Field(default=100, ge=1, description="Smaller slices are reported but never gate.")
    thresholds: dict[str, MetricGate] = Field(default_factory=dict, description="Gates on every slice and overall.")
    overall: dict[str, MetricGate] = Field(default_factory=dict, description="Gates on the overall slice only.")
    max_gap: list[GapGate] = Field(default_factory=list)

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, names: list[str]) -> list[str]:
        for name in names:
            metric_name(name)
        return names

    @model_validator(mode="after")
    def _gates_in_range(self) -> EvaluationStage:
        """What holds whatever the label's kind: known metrics, bounds in range, gaps on declared slicings.

        Whether a metric fits the label, and is computed, is `check_metrics`' part.
        """
        problems = []
        slicings = {tuple(slice_columns(s)) for s in self.slices}
        for section in ("thresholds", "overall"):
            for metric, gate in getattr(self, section).items():
                problems += _check_gate(f"{section}.{metric}", metric, gate)
        for i, gap in enumerate(self.max_gap):
            where = f"max_gap.{i}"
            info = metric_info(gap.metric)
            if info is None:
                problems.append(f"{where}.metric: unknown metric {gap.metric!r}")
            elif info.bounded and gap.max > 1:
                problems.append(f"{where}.max: {gap.max} is outside [0, 1] for {gap.metric}")
            if tuple(gap.slice) not in slicings:
                problems.append(f"{where}.slice: {gap.slice} is not one of the slices ({sorted(slicings)})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def slice_columns(self) -> list[list[str]]:
        return [slice_columns(s) for s in self.slices]

    def computed_metrics(self, label: LabelKind = BINARY_LABEL) -> list[str]:
        """Every metric name computed per slice for a label of this kind, in report order."""
        if label.kind != "binary":
            return list(label.always())
        extra = [metric_name(n) for n in self.metrics]
        return list(dict.fromkeys([*ALWAYS, *extra]))


def check_metrics(stage: EvaluationStage, label: LabelKind) -> list[tuple[list[str], str]]:
    """Metrics and gates that do not fit the label's kind, or are not computed: [(key path, message)].

    Run at load (`pipelines/config/root.py`), once the label's kind is known
    (declared as `data.label_kind`, or inferred from the data).
    """
    where = ["stages", "evaluation"]
    known = label.metrics()
    valid = f"valid for a {label.describe()} label: {', '.join(known)}"
    computed = set(stage.computed_metrics(label))
    problems = []
    if stage.metrics and label.kind != "binary":
        problems.append(
            ([*where, "metrics"], f"extra metrics apply to binary labels; a {label.describe()} label computes {valid}")
        )
    gated = [(section, metric) for section in ("thresholds", "overall") for metric in getattr(stage, section)]
    gated += [(f"max_gap.{i}", gap.metric) for i, gap in enumerate(stage.max_gap)]
    for section, metric in gated:
        key = [*where, *section.split("."), "metric" if section.startswith("max_gap") else metric]
        name = f"{section}.metric" if section.startswith("max_gap") else f"{section}.{metric}"
        if metric_info(metric) is None:
            continue  # unknown to every kind: reported by the stage's own validation
        if metric not in known:
            problems.append((key, f"{name}: {metric!r} does not fit the label ({valid})"))
        elif metric not in computed:
            problems.append((key, f"{name}: {metric!r} is not computed (add it to metrics)"))
    return problems


def _check_gate(where: str, metric: str, gate: MetricGate) -> list[str]:
    info = metric_info(metric)
    if info is None:
        binary = ", ".join(sorted(METRICS))
        return [f"{where}: unknown metric (binary labels: {binary}; multiclass and regression: README, Label kinds)"]
    problems = []
    for name in ("min", "max", "max_regression"):
        value = getattr(gate, name)
        if value is None:
            continue
        if info.bounded and not 0.0 <= value <= 1.0:
            problems.append(f"{where}.{name}: {value} is outside [0, 1] for {metric}")
        elif metric == "example_count" and value < 0:
            problems.append(f"{where}.{name}: {value} is negative")
    if gate.max_regression is not None and info.higher_is_better is None:
        problems.append(f"{where}.max_regression: {metric} has no better direction; use min/max")
    return problems


def check_slice_features(stage: EvaluationStage, known: set[str], *, source: str) -> list[tuple[list[str], str]]:
    """Slices on features the data does not have: [(key path, message)], empty when all exist.

    Args:
      stage: the evaluation stage.
      known: the feature names of the schema (or the data's header).
      source: where `known` came from, for the message.
    """
    problems = []
    # A bucketed feature's derived column (`trip_start_hour_bucket`) may be crossed with others.
    known = known | {spec.column for spec in stage.slices if isinstance(spec, Buckets)}
    for i, spec in enumerate(stage.slices):
        for feature in slice_features(spec):
            if feature not in known:
                problems.append(
                    (
                        ["stages", "evaluation", "slices", str(i)],
                        f"feature {feature!r} is not in {source} (known: {', '.join(sorted(known))})",
                    )
                )
    return problems
