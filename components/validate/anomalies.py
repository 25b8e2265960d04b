"""Anomalies vs the curated schema, sorted by the config's policy per anomaly kind.

TFDV finds the anomalies (`tfdv.validate_statistics`, the same check
ExampleValidator runs); this module only decides what each one means for the
run: `fail` (stop before training), `warn` (report and go on) or `ignore`.
Kinds are TFDV's own names (`AnomalyInfo.Type`, e.g.
`ENUM_TYPE_UNEXPECTED_STRING_VALUES`), so they can be looked up in TFDV's docs;
kinds the policy does not name get the default (`fail`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping

from tensorflow_metadata.proto.v0 import anomalies_pb2

Action = Literal["fail", "warn", "ignore"]
KINDS = tuple(name for name in anomalies_pb2.AnomalyInfo.Type.keys() if name != "UNKNOWN_TYPE")


@dataclass(frozen=True)
class Finding:
    feature: str
    kind: str
    detail: str  # TFDV's description: names the offending value or ratio
    action: str

    def describe(self) -> str:
        return f"{self.feature}: {self.kind}: {self.detail}"


class AnomaliesFailed(RuntimeError):
    """Anomalies whose kind the policy says `fail`."""


def classify(
    anomalies: anomalies_pb2.Anomalies, *, policy: Mapping[str, Action], default: Action = "fail"
) -> list[Finding]:
    """Every (feature, anomaly kind) TFDV reported, with the action the policy gives it."""
    unknown = sorted(set(policy) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown anomaly kinds {unknown} (TFDV's kinds: anomalies_pb2.AnomalyInfo.Type)")
    findings = []
    for feature in sorted(anomalies.anomaly_info):
        info = anomalies.anomaly_info[feature]
        for reason in info.reason:
            kind = anomalies_pb2.AnomalyInfo.Type.Name(reason.type)
            action = policy.get(kind, default)
            findings.append(Finding(feature, kind, reason.description or info.description, action))
    if anomalies.HasField("dataset_anomaly_info"):
        for reason in anomalies.dataset_anomaly_info.reason:
            kind = anomalies_pb2.AnomalyInfo.Type.Name(reason.type)
            findings.append(Finding("<dataset>", kind, reason.description, policy.get(kind, default)))
    return findings


def enforce(findings: list[Finding], *, split: str) -> list[Finding]:
    """Raises AnomaliesFailed listing every failing finding; returns the warnings."""
    failing = [f for f in findings if f.action == "fail"]
    if failing:
        lines = "\n".join(f"  - {f.describe()}" for f in failing)
        raise AnomaliesFailed(
            f"{len(failing)} anomal{'y' if len(failing) == 1 else 'ies'} in split '{split}' "
            f"against the schema (policy fail); stopping before training:\n{lines}"
        )
    return [f for f in findings if f.action == "warn"]
