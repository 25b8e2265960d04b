"""Reader of DataDrift's DriftReport artifact: `drift_report.json` (+ `.html`), and the blocked run's kept copy.

The JSON document is {policy, reports: [{kind, baseline, current, features:
[{feature, values: {measure: x}, thresholds: {measure: t}, fired: [measure]}]}]}
(components/drift/report_payload.py). TFX deletes a failed execution's
outputs, so a DataDrift that blocks the run keeps its report in a `blocked/`
directory beside them (`kept_dir`). The drift *blessing* is read by
`tfxgate.artifacts.blessing`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Optional

from tfxgate.artifacts.kept import kept_dir  # noqa: F401  (drift's name for it, used by DataDrift)
from tfxgate.storage import filesystem

DRIFT_REPORT_JSON = "drift_report.json"
DRIFT_REPORT_HTML = "drift_report.html"


@dataclass
class Drift:
    report_id: int
    report_uri: str
    blessing_id: Optional[int]
    blessed: Optional[bool]
    retrain: Optional[bool]
    policy: Optional[str]
    comparisons: list[dict]  # see `comparisons`; [] = nothing to compare against


def read(uri: str) -> Optional[dict]:
    """The drift_report.json document in the directory `uri`, or None when it is gone."""
    path = os.path.join(uri, DRIFT_REPORT_JSON)  # a local path or an object-store URI (remote pipeline root)
    return json.loads(filesystem.read_text(path)) if filesystem.isfile(path) else None


def comparisons(document: Optional[dict]) -> list[dict]:
    """Each comparison of the document summarised per feature.

    A comparison is {kind, baseline, current, features_compared, drifted: [{feature,
    fired: {measure: [value, threshold]}}], worst: {feature, measure, value, threshold}}:
    `worst` is the feature/measure closest to (or furthest past) its threshold.
    """
    found = []
    for report in (document or {}).get("reports", []):
        features = report.get("features", [])
        drifted = [
            {"feature": f["feature"], "fired": {m: [f["values"][m], f["thresholds"][m]] for m in f["fired"]}}
            for f in features
            if f.get("fired")
        ]
        found.append(
            {
                "kind": report.get("kind"),
                "baseline": report.get("baseline"),
                "current": report.get("current"),
                "features_compared": len(features),
                "drifted": drifted,
                "worst": _worst(features),
            }
        )
    return found


def _worst(features: list[dict]) -> Optional[dict]:
    best: Optional[tuple[float, dict]] = None
    for f in features:
        for measure, threshold in f.get("thresholds", {}).items():
            got = f.get("values", {}).get(measure)
            if got is None or not threshold or got != got:  # NaN: not measurable
                continue
            ratio = got / threshold
            if best is None or ratio > best[0]:
                best = (ratio, {"feature": f["feature"], "measure": measure, "value": got, "threshold": threshold})
    return best[1] if best else None
