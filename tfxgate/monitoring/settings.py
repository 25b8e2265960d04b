"""The `monitoring:` section: when a batch of serving logs is a breach, and what to do about one.

    monitoring:
      prediction: prediction          # the logs' column holding the model's output
      key: request_id                 # joins a labels file to the logs
      version: model_version          # which served version answered (stable or canary candidate)
      min_examples: 50                # a slice with fewer labelled rows is not judged
      thresholds:
        drift: {psi: 0.2, ks: 0.1}    # serving inputs vs the training span (tfxgate/drift measures)
        prediction: {psi: 0.2, ks: 0.1}
        metrics: {binary_accuracy: 0.1, auc: 0.05}   # largest allowed drop vs the evaluation at push time
      on_breach: [alert, abort_canary, retrain]

Imports nothing heavy (`tfxgate check` stays fast).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from tfxgate.drift.defaults import DEFAULT_SIGNIFICANCE, DEFAULT_THRESHOLDS
from tfxgate.settings import Section

ACTIONS = ("alert", "abort_canary", "retrain")
PREDICTION_MEASURES = ("psi", "ks", "wasserstein", "jsd")
# Binary-label metrics the monitor computes as SliceEval defines them (components/slice_eval README);
# the thresholds gate a drop of the higher-is-better ones vs the evaluation at push time.
METRICS = ("auc", "binary_accuracy", "precision", "recall")


class MonitoringThresholds(Section):
    drift: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_THRESHOLDS),
        description="Data drift of serving inputs vs the training span, per measure (tfxgate/drift).",
    )
    prediction: dict[str, float] = Field(
        default_factory=lambda: {"psi": 0.2, "ks": 0.1},
        description="Prediction drift vs the model's predictions on its evaluation data, per measure.",
    )
    metrics: dict[str, float] = Field(
        default_factory=lambda: {"binary_accuracy": 0.1},
        description="Largest allowed drop of a metric on a slice vs the model's evaluation at push time.",
    )

    @field_validator("drift")
    @classmethod
    def _drift_measures(cls, found: dict[str, float]) -> dict[str, float]:
        return _known(found, DEFAULT_THRESHOLDS, what="drift measure")

    @field_validator("prediction")
    @classmethod
    def _prediction_measures(cls, found: dict[str, float]) -> dict[str, float]:
        return _known(found, PREDICTION_MEASURES, what="prediction drift measure")

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, found: dict[str, float]) -> dict[str, float]:
        return _known(found, METRICS, what="metric")


def _known(found: dict[str, float], known, *, what: str) -> dict[str, float]:
    for name, value in found.items():
        if name not in known:
            raise ValueError(f"unknown {what} {name!r} (known: {', '.join(known)})")
        if value < 0:
            raise ValueError(f"{name}: a threshold must be >= 0, got {value}")
    return found


class MonitoringSection(Section):
    """How `tfxgate monitor` reads serving logs and judges them."""

    prediction: str = Field(default="prediction", min_length=1, description="The logs' prediction column.")
    key: str = Field(default="request_id", min_length=1, description="Column joining a labels file to the logs.")
    version: str = Field(
        default="model_version",
        min_length=1,
        description="Column naming the version that answered (canary traffic); without it, every row is the stable's.",
    )
    min_examples: int = Field(default=50, ge=1, description="Labelled rows a slice needs to be judged.")
    significance: float = Field(
        default=DEFAULT_SIGNIFICANCE, gt=0, le=1, description="Level of the drift tests (Benjamini-Hochberg)."
    )
    thresholds: MonitoringThresholds = Field(default_factory=MonitoringThresholds)
    on_breach: list[Literal["alert", "abort_canary", "retrain"]] = Field(
        default_factory=lambda: ["alert"], description="What a breach does, in this order."
    )
