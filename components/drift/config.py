"""The `stages.drift` section of the pipeline YAML (plugged into pipelines/config/root.py).

    stages:
      drift:
        enabled: true
        policy: block            # block (no push) | warn | retrain
        thresholds: {psi: 0.2, ks: 0.1, wasserstein: 0.2, missing: 0.05, nonfinite: 0.05, linf: 0.1, jsd: 0.1}
        significance: 0.05       # a measure fires only when its test is significant too (BH-corrected)
        features:                # per-feature overrides of tfxgate's own measures
          fare: {ks: 0.2}
        serving: ../data/serving.csv   # optional: skew of the training data vs this source

TFDV's own measures (`linf`, `jsd`) are set per feature in the schema, where
TFDV reads them (`drift_comparator` / `skew_comparator`); the `thresholds` here
are only their defaults for features the schema leaves without a comparator.
No TFX import: `tfxgate check` stays fast.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from tfxgate.drift.defaults import DEFAULT_SIGNIFICANCE, DEFAULT_THRESHOLDS
from tfxgate.settings import is_remote

SCHEMA_MEASURES = ("linf", "jsd")


class DriftStage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    policy: Literal["block", "warn", "retrain"] = Field(
        default="block", description="What drift does: block the push, only warn, or signal retraining."
    )
    thresholds: dict[str, float] = Field(default_factory=dict, description="Default threshold per measure.")
    features: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Per-feature overrides of psi/ks/wasserstein/missing/nonfinite."
    )
    serving: Optional[str] = Field(default=None, description="CSV of serving data to check training skew against.")
    significance: float = Field(
        default=DEFAULT_SIGNIFICANCE,
        gt=0,
        le=1,
        description="A measure fires only if its test (KS, chi-square, Fisher) is significant at this level after a "
        "Benjamini-Hochberg correction over the comparison's features; 1 = thresholds alone.",
    )

    @field_validator("thresholds")
    @classmethod
    def _known_measures(cls, thresholds: dict[str, float]) -> dict[str, float]:
        for measure, value in thresholds.items():
            _check_measure(measure, value, key=measure)
        return thresholds

    @field_validator("features")
    @classmethod
    def _overrides(cls, features: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for feature, overrides in features.items():
            for measure, value in overrides.items():
                if measure in SCHEMA_MEASURES:
                    raise ValueError(
                        f"{feature}.{measure}: set TFDV's {measure} per feature in the schema "
                        f"(drift_comparator / skew_comparator of feature {feature!r}), not here"
                    )
                _check_measure(measure, value, key=f"{feature}.{measure}")
        return features

    @field_validator("serving")
    @classmethod
    def _serving_exists(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is None or is_remote(value):
            return value  # a remote source is not opened here (`tfxgate check` says it was not checked)
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = Path((info.context or {}).get("base_dir", Path.cwd())) / path
        if not path.is_file():
            raise ValueError(f"serving data source not found: {path}")
        return str(path)

    def merged_thresholds(self) -> dict[str, float]:
        return {**DEFAULT_THRESHOLDS, **self.thresholds}


def _check_measure(measure: str, value: float, *, key: str) -> None:
    if measure not in DEFAULT_THRESHOLDS:
        raise ValueError(f"{key}: unknown measure (known: {', '.join(DEFAULT_THRESHOLDS)})")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{key}: threshold must be a finite number >= 0, got {value}")
