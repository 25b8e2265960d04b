"""Reader of a PushedModel artifact: the push record the stock Pusher and GovernedPush leave.

Both set `pushed` (1/0), `pushed_version` and `pushed_destination` (the
version directory). GovernedPush adds `destination_name`, `model_id`, `gates`
(JSON: gate -> {passed, detail}) and `decisions` (JSON: [{destination,
approval, action, version, path}]); a `tfxgate.Push` recorded by `tfxgate
approve` sets `destination_name` and `model_id` (tfxgate/mlmd/audit.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional

from tfxgate.mlmd.graph import value


@dataclass
class Push:
    artifact_id: int
    pushed: bool
    version: Optional[str]
    destination: Optional[str]  # the version directory
    destination_name: Optional[str]  # e.g. "production" (governed push)
    uri: str
    model_id: Optional[int] = None
    gates: dict[str, dict] = field(default_factory=dict)  # GovernedPush's gate results
    decisions: Optional[list[dict]] = None  # GovernedPush's per-destination decisions; None: the stock Pusher


def read(artifact) -> Push:
    gates, decisions = value(artifact, "gates"), value(artifact, "decisions")
    return Push(
        artifact_id=artifact.id,
        pushed=value(artifact, "pushed") == 1,
        version=value(artifact, "pushed_version"),
        destination=value(artifact, "pushed_destination"),
        destination_name=value(artifact, "destination_name"),
        uri=artifact.uri,
        model_id=value(artifact, "model_id"),
        gates=json.loads(gates) if gates else {},
        decisions=None if decisions is None else json.loads(decisions or "[]"),
    )
