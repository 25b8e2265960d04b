"""The `stages.validation` section of the pipeline YAML (plugged into pipelines/config/root.py).

    stages:
      validation:
        enabled: true
        environment: TRAINING          # the schema environment the data is checked in
        default: fail                  # policy for anomaly kinds not named below
        anomalies:                     # TFDV's kind names (AnomalyInfo.Type)
          ENUM_TYPE_UNEXPECTED_STRING_VALUES: warn
          FEATURE_TYPE_LOW_FRACTION_PRESENT: fail
        features:                      # per-feature overrides
          company: {ENUM_TYPE_UNEXPECTED_STRING_VALUES: ignore}

Policies: `fail` stops the run before training, `warn` reports and goes on,
`ignore` drops the anomaly from the report. Kinds are validated on load, so a
misspelt kind is a config error naming the key (with the nearest known kinds),
never a policy that silently does nothing. Only protobuf is imported here.
"""

from __future__ import annotations

import difflib
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator
from tensorflow_metadata.proto.v0 import anomalies_pb2

Action = Literal["fail", "warn", "ignore"]
KINDS = tuple(name for name in anomalies_pb2.AnomalyInfo.Type.keys() if name != "UNKNOWN_TYPE")


class ValidationStage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    environment: Optional[str] = Field(
        default=None, description="Schema environment the examples are checked in (e.g. TRAINING); unset: all."
    )
    default: Action = Field(default="fail", description="Policy for anomaly kinds the `anomalies` map leaves out.")
    anomalies: dict[str, Action] = Field(default_factory=dict, description="TFDV anomaly kind -> fail | warn | ignore.")
    features: dict[str, dict[str, Action]] = Field(
        default_factory=dict, description="Feature -> {anomaly kind -> policy}: per-feature overrides."
    )

    @field_validator("anomalies")
    @classmethod
    def _known_kinds(cls, anomalies: dict[str, Action]) -> dict[str, Action]:
        for kind in anomalies:
            check_kind(kind, key=kind)
        return anomalies

    @field_validator("features")
    @classmethod
    def _known_feature_kinds(cls, features: dict[str, dict[str, Action]]) -> dict[str, dict[str, Action]]:
        for feature, kinds in features.items():
            for kind in kinds:
                check_kind(kind, key=f"{feature}.{kind}")
        return features

    def settings(self) -> dict:
        """What the Validate component receives (JSON-ready)."""
        return {
            "environment": self.environment,
            "default": self.default,
            "anomalies": dict(self.anomalies),
            "features": {name: dict(kinds) for name, kinds in self.features.items()},
        }


def check_kind(kind: str, *, key: str) -> None:
    """Raises ValueError naming `key` when `kind` is not one of TFDV's anomaly kinds."""
    if kind in KINDS:
        return
    near = difflib.get_close_matches(kind, KINDS, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(near)}?" if near else " (see tensorflow_metadata AnomalyInfo.Type)"
    raise ValueError(f"{key}: unknown anomaly kind {kind!r}{hint}")


def check_environment(environment: Optional[str], declared: list[str]) -> Optional[str]:
    """A problem message when the configured environment is not one the schema declares."""
    if environment is None or environment in declared:
        return None
    if not declared:
        return f"environment {environment!r}: the schema declares no environments (default_environment)"
    return f"environment {environment!r} is not declared in the schema (declared: {', '.join(declared)})"
