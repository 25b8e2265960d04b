"""Reading the payload files of the artifacts a lineage walk reaches.

ML Metadata holds properties and URIs; the numbers a reviewer wants (features
in the schema, examples per split, anomalies, drift per feature, metrics per
slice) live in the artifact directories, in the layouts the producing
components write: `schema.pbtxt` (ImportSchemaGen/SchemaGen),
`Split-*/FeatureStats.pb` (StatisticsGen/Validate), `Split-*/SchemaDiff.pb`
(ExampleValidator/Validate), `drift_report.json` (components/drift) and
`report.json` (components/slice_eval). Each reader returns plain data and
tolerates a missing file (an artifact whose files were cleaned up still
appears in the lineage, with what MLMD knows about it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from tfxgate.artifacts.schema import SchemaFileError, read_schema

# File names inside the artifact directories tfxgate's components write.
DRIFT_REPORT_JSON = "drift_report.json"  # DataDrift's DriftReport
DRIFT_REPORT_HTML = "drift_report.html"
EVALUATION_JSON = "report.json"  # SliceEval's SliceEvaluation
EVALUATION_HTML = "report.html"


def kept_drift_report_dir(report_uri: str) -> str:
    """Where a blocked run's drift report is kept: TFX deletes a failed execution's outputs.

    `<root>/artifacts/DataDrift/drift_report/<id>` -> `<root>/artifacts/DataDrift/blocked/<id>`.
    """
    component_dir = os.path.split(os.path.dirname(report_uri.rstrip("/")))[0]
    return os.path.join(component_dir, "blocked", os.path.basename(report_uri.rstrip("/")))


def schema_features(uri: str) -> Optional[list[dict]]:
    """[{name, type}] of the schema in the artifact directory; None when unreadable."""
    files = sorted(Path(uri).glob("*.pbtxt")) if Path(uri).is_dir() else []
    if not files:
        return None
    try:
        schema = read_schema(files[0])
    except SchemaFileError:
        return None
    return [{"name": f.name, "type": schema_pb2.FeatureType.Name(f.type)} for f in schema.feature]


def split_statistics(uri: str) -> dict[str, dict]:
    """Split -> {examples, features} from TFDV's per-split statistics."""
    found: dict[str, dict] = {}
    for path in sorted(Path(uri).glob("Split-*/FeatureStats.pb")):
        stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(path.read_bytes())
        for dataset in stats.datasets[:1]:
            found[path.parent.name[len("Split-") :]] = {
                "examples": int(dataset.num_examples),
                "features": len(dataset.features),
            }
    return found


def anomalies(uri: str) -> list[dict]:
    """[{split, feature, description}] from the per-split anomalies protos."""
    found = []
    for path in sorted(Path(uri).glob("Split-*/SchemaDiff.pb")):
        proto = anomalies_pb2.Anomalies.FromString(path.read_bytes())
        for feature, info in sorted(proto.anomaly_info.items()):
            found.append(
                {
                    "split": path.parent.name[len("Split-") :],
                    "feature": feature,
                    "description": info.short_description or info.description,
                }
            )
    return found


def drift_comparisons(uri: str) -> tuple[Optional[str], list[dict]]:
    """(policy, comparisons) from drift_report.json; each comparison summarised per feature.

    A comparison is {kind, baseline, current, features_compared, drifted: [{feature,
    fired: {measure: [value, threshold]}}], worst: {feature, measure, value, threshold}}:
    `worst` is the feature/measure closest to (or furthest past) its threshold.
    """
    path = Path(uri) / DRIFT_REPORT_JSON
    if not path.exists():
        return None, []
    data = json.loads(path.read_text())
    comparisons = []
    for report in data.get("reports", []):
        features = report.get("features", [])
        drifted = [
            {"feature": f["feature"], "fired": {m: [f["values"][m], f["thresholds"][m]] for m in f["fired"]}}
            for f in features
            if f.get("fired")
        ]
        comparisons.append(
            {
                "kind": report.get("kind"),
                "baseline": report.get("baseline"),
                "current": report.get("current"),
                "features_compared": len(features),
                "drifted": drifted,
                "worst": _worst(features),
            }
        )
    return data.get("policy"), comparisons


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


def slice_report(uri: str) -> Optional[dict]:
    """SliceEval's report.json (verdict, failures, every slice x metric), or None."""
    path = Path(uri) / EVALUATION_JSON
    return json.loads(path.read_text()) if path.exists() else None
