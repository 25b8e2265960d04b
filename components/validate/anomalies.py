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
from typing import Mapping, Optional

from tensorflow_metadata.proto.v0 import anomalies_pb2

from tfxgate.components.validate.config import KINDS, Action


@dataclass(frozen=True)
class Finding:
    feature: str
    kind: str
    detail: str  # TFDV's description: names the offending value or ratio
    action: str
    split: str = ""

    def to_dict(self) -> dict:
        """One entry of the `anomaly_summary` custom property (docs/CONTRACTS.md)."""
        return {
            "feature": self.feature,
            "kind": self.kind,
            "policy": self.action,
            "description": self.detail,
            "split": self.split,
        }

    def describe(self) -> str:
        return f"{self.feature}: {self.kind}: {self.detail}"


class AnomaliesFailed(RuntimeError):
    """Anomalies whose kind the policy says `fail`."""


def classify(
    anomalies: anomalies_pb2.Anomalies,
    *,
    policy: Mapping[str, Action],
    default: Action = "fail",
    features: Optional[Mapping[str, Mapping[str, Action]]] = None,
    split: str = "",
) -> list[Finding]:
    """Every (feature, anomaly kind) TFDV reported, with the action the policy gives it.

    A per-feature policy (`features[name][kind]`) wins over the per-kind one,
    which wins over `default`.
    """
    unknown = sorted((set(policy) | {k for kinds in (features or {}).values() for k in kinds}) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown anomaly kinds {unknown} (TFDV's kinds: anomalies_pb2.AnomalyInfo.Type)")
    features = features or {}

    def action(feature: str, kind: str) -> str:
        return features.get(feature, {}).get(kind, policy.get(kind, default))

    findings = []
    for feature in sorted(anomalies.anomaly_info):
        info = anomalies.anomaly_info[feature]
        for reason in info.reason:
            kind = anomalies_pb2.AnomalyInfo.Type.Name(reason.type)
            detail = reason.description or info.description
            findings.append(Finding(feature, kind, detail, action(feature, kind), split))
    if anomalies.HasField("dataset_anomaly_info"):
        for reason in anomalies.dataset_anomaly_info.reason:
            kind = anomalies_pb2.AnomalyInfo.Type.Name(reason.type)
            findings.append(Finding("<dataset>", kind, reason.description, action("<dataset>", kind), split))
    return findings


def enforce(findings: list[Finding], *, split: Optional[str] = None) -> list[Finding]:
    """Raises AnomaliesFailed listing every failing finding; returns the warnings.

    The message names, per failing anomaly, the feature, TFDV's kind and TFDV's
    description (the offending values, or the observed fraction vs the schema's).
    """
    failing = [f for f in findings if f.action == "fail"]
    if failing:
        splits = [split] if split else sorted({f.split for f in failing})
        where = f"split '{splits[0]}'" if len(splits) == 1 else "splits " + ", ".join(f"'{s}'" for s in splits)
        lines = "\n".join(f"  - {f.describe()}" + (f" [{f.split}]" if len(splits) > 1 else "") for f in failing)
        raise AnomaliesFailed(
            f"{len(failing)} anomal{'y' if len(failing) == 1 else 'ies'} in {where} "
            f"against the schema (policy fail); stopping before training:\n{lines}"
        )
    return [f for f in findings if f.action == "warn"]
