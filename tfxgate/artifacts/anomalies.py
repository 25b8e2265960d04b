"""Reader of ExampleAnomalies artifacts: `Split-*/SchemaDiff.pb` and Validate's properties.

Validate (components/validate) writes the anomaly protos plus `blessed` and
`anomaly_summary` (JSON: [{split, feature, kind, policy, description}]); the
stock ExampleValidator writes the protos and a per-split `blessed` struct.
Whether the artifact passes is decided by `blessing.validation_passed`.
When Validate stops the run, TFX discards the artifact; Validate keeps its
summary in `kept.kept_dir` first (`KEPT_SUMMARY`, read by `kept_summary`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from tensorflow_metadata.proto.v0 import anomalies_pb2

from tfxgate.artifacts import blessing
from tfxgate.mlmd.graph import value
from tfxgate.storage import filesystem


@dataclass
class Anomalies:
    artifact_id: int
    uri: str
    passed: bool
    anomalies: list[dict]  # [{split, feature, description}]
    summary: list[dict] = field(default_factory=list)  # Validate's [{split, feature, kind, policy, description}]


def by_split(uri: str) -> dict[str, list[dict]]:
    """Split -> [{split, feature, description}], for every split with a SchemaDiff.pb (empty lists included)."""
    found: dict[str, list[dict]] = {}
    for path in filesystem.glob(os.path.join(str(uri), "Split-*", "SchemaDiff.pb")):  # local or an object store
        split = path.split("/")[-2][len("Split-") :]
        proto = anomalies_pb2.Anomalies.FromString(filesystem.read_bytes(path))
        found[split] = [
            {"split": split, "feature": feature, "description": info.short_description or info.description}
            for feature, info in sorted(proto.anomaly_info.items())
        ]
    return found


def lines(uri: str) -> dict[str, list[str]]:
    """Split -> ["feature: description", ...]."""
    return {split: [f"{a['feature']}: {a['description']}" for a in items] for split, items in by_split(uri).items()}


def count(uri: str) -> Optional[int]:
    """How many anomalies the files list; None when there is no anomalies file (unreadable)."""
    found = by_split(uri)
    return sum(len(items) for items in found.values()) if found else None


KEPT_SUMMARY = "anomaly_summary.json"  # the `anomaly_summary` of a Validate that stopped the run


def kept_summary(kept: str) -> Optional[list[dict]]:
    """The anomaly summary a Validate that stopped the run kept in the directory `kept`; None when absent."""
    path = Path(kept) / KEPT_SUMMARY
    return json.loads(path.read_text()) if path.exists() else None


def summary(artifact) -> Optional[list[dict]]:
    """Validate's `anomaly_summary`, or None for a stock ExampleValidator's artifact."""
    text = value(artifact, "anomaly_summary")
    return json.loads(text) if text else None


def read(artifact) -> Anomalies:
    """An ExampleAnomalies artifact: its verdict, the anomalies its files list and Validate's summary."""
    found = by_split(artifact.uri)
    total = sum(len(items) for items in found.values()) if found else None  # as `count`, one read
    return Anomalies(
        artifact_id=artifact.id,
        uri=artifact.uri,
        passed=blessing.validation_passed(value(artifact, "blessed"), total),
        anomalies=[item for items in found.values() for item in items],
        summary=summary(artifact) or [],
    )
