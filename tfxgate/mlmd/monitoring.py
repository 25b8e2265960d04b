"""Monitoring runs in ML Metadata: one `tfxgate.Monitor` execution per model and batch of serving logs.

The execution reads the Model and the PushedModel it judged (INPUT events
`model`, `pushed_model`) and writes one `tfxgate.MonitoringResult` artifact
(OUTPUT `result`) whose URI is the folder holding `monitor.json` and
`monitor.html`. Its string properties: `pipeline`, `destination`, `version`,
`role` (stable | candidate), `logs`, `status` (ok | breach), `breaches`
(JSON list of {kind, where, measure, value, threshold, baseline, message}),
`measures` (JSON: the prediction drift measures, drifted features, per-slice
metrics), `actions` (JSON: what the policy did) and `at`. It is associated with
the TFX `pipeline` context, so `records` finds a pipeline's monitoring runs and
the lineage walker a model's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional

from ml_metadata.proto import metadata_store_pb2

from tfxgate.mlmd.audit import event, now, string_execution
from tfxgate.mlmd.graph import Graph, value

MONITOR = "tfxgate.Monitor"
RESULT = "tfxgate.MonitoringResult"
PROPERTIES = ("pipeline", "destination", "version", "role", "logs", "status", "breaches", "measures", "actions", "at")


@dataclass(frozen=True)
class MonitorRecord:
    id: int
    pipeline: str
    destination: str
    version: str
    role: str
    logs: str
    status: str
    at: str
    breaches: list = field(default_factory=list)
    measures: dict = field(default_factory=dict)
    actions: list = field(default_factory=list)
    model_id: Optional[int] = None
    result_uri: str = ""


def record(
    store,
    *,
    pipeline: str,
    destination: str,
    version: str,
    role: str,
    logs: str,
    status: str,
    breaches: list,
    measures: dict,
    result_uri: str,
    model_id: Optional[int],
    pushed_model_id: Optional[int] = None,
) -> int:
    """Writes one monitoring execution with its events, result artifact and pipeline context; returns its id."""
    values = dict(
        pipeline=pipeline,
        destination=destination,
        version=version,
        role=role,
        logs=logs,
        status=status,
        breaches=json.dumps(breaches, sort_keys=True, default=str),
        measures=json.dumps(measures, sort_keys=True, default=str),
        actions="[]",
        at=now(),
    )
    execution = string_execution(store, MONITOR, PROPERTIES, values)
    links = []
    for artifact_id, key in ((model_id, "model"), (pushed_model_id, "pushed_model")):
        if artifact_id is not None:
            [artifact] = store.get_artifacts_by_id([artifact_id])
            links.append((artifact, event(metadata_store_pb2.Event.INPUT, key)))
    result = metadata_store_pb2.Artifact(
        type_id=_result_type(store),
        uri=result_uri,
        state=metadata_store_pb2.Artifact.LIVE,
    )
    result.custom_properties["status"].string_value = status
    links.append((result, event(metadata_store_pb2.Event.OUTPUT, "result")))
    context = store.get_context_by_type_and_name("pipeline", pipeline)
    execution_id, _, _ = store.put_execution(execution, links, [context] if context is not None else [])
    return execution_id


def set_actions(store, execution_id: int, actions: list[dict]) -> None:
    """Records what the policy did (after the fact: an abort or an alert happens once the breach is recorded)."""
    [execution] = store.get_executions_by_id([execution_id])
    execution.properties["actions"].string_value = json.dumps(actions, sort_keys=True, default=str)
    store.put_executions([execution])


def records(store, *, pipeline: Optional[str] = None, model_id: Optional[int] = None) -> list[MonitorRecord]:
    """Monitoring runs, oldest first: of one pipeline, and/or of one model."""
    if MONITOR not in {t.name for t in store.get_execution_types()}:
        return []
    graph = Graph(store)
    found = []
    for execution in sorted(store.get_executions_by_type(MONITOR), key=lambda e: e.id):
        if pipeline is not None and value(execution, "pipeline") != pipeline:
            continue
        links = graph.linked([execution.id])
        model = next((a.id for link, a in links if link.is_input and link.key == "model"), None)
        if model_id is not None and model != model_id:
            continue
        result = next((a.uri for link, a in links if link.is_output and link.key == "result"), "")
        found.append(
            MonitorRecord(
                id=execution.id,
                pipeline=value(execution, "pipeline", ""),
                destination=value(execution, "destination", ""),
                version=value(execution, "version", ""),
                role=value(execution, "role", ""),
                logs=value(execution, "logs", ""),
                status=value(execution, "status", ""),
                at=value(execution, "at", ""),
                breaches=json.loads(value(execution, "breaches", "") or "[]"),
                measures=json.loads(value(execution, "measures", "") or "{}"),
                actions=json.loads(value(execution, "actions", "") or "[]"),
                model_id=model,
                result_uri=result,
            )
        )
    return found


def _result_type(store) -> int:
    return store.put_artifact_type(metadata_store_pb2.ArtifactType(name=RESULT), can_add_fields=True)
