"""The one "is it blessed" rule, and the reader of blessing artifacts.

A blessing is an ML Metadata property, not a file: `blessed` on ModelBlessing
(SliceEval, TFX's Evaluator), DriftBlessing (DataDrift) and ExampleAnomalies
(Validate writes 1/0; TFX 1.16's stock ExampleValidator writes a struct
{split: 1/0}). Without a `blessed` property, validation passes iff the anomaly
files list nothing (`anomalies.count`); unreadable files fail it. The
governed push's gates (`tfxgate.governance.gates`), the run summary, the
report and the lineage all decide with these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from tfxgate.mlmd.graph import value


def is_blessed(blessed: Any) -> bool:
    """`blessed` is 1/0, or per split ({"train": 1, "eval": 1}); an empty mapping is not blessed.

    Example:
      >>> is_blessed({"train": 1.0, "eval": 1.0}), is_blessed(0)
      (True, False)
    """
    if isinstance(blessed, Mapping):
        return bool(blessed) and all(int(v) == 1 for v in blessed.values())
    return int(blessed) == 1


def validation_passed(blessed: Any, anomaly_count: Optional[int]) -> bool:
    """The validation verdict: the `blessed` property when there is one, else no anomaly listed.

    Args:
      blessed: the ExampleAnomalies artifact's `blessed` property (None: absent).
      anomaly_count: anomalies its files list (None: no readable file, which fails).
    """
    if blessed is not None:
        return is_blessed(blessed)
    return anomaly_count == 0


@dataclass(frozen=True)
class Blessing:
    """A ModelBlessing, DriftBlessing or Validate's ExampleAnomalies, as its properties say."""

    artifact_id: int
    blessed: Optional[bool]  # None: no `blessed` property
    retrain: Optional[bool]  # DataDrift's "drift found, retrain" flag
    message: Optional[str]  # `blessing_message`
    baseline_model: Optional[str]  # the baseline's URI, as TFX's Evaluator and SliceEval record it
    current_model_id: Optional[int]


def read(artifact) -> Blessing:
    """The blessing properties of an MLMD artifact."""
    blessed, retrain = value(artifact, "blessed"), value(artifact, "retrain")
    return Blessing(
        artifact_id=artifact.id,
        blessed=None if blessed is None else is_blessed(blessed),
        retrain=None if retrain is None else bool(retrain),
        message=value(artifact, "blessing_message"),
        baseline_model=value(artifact, "baseline_model") or None,
        current_model_id=value(artifact, "current_model_id"),
    )
