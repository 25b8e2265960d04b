"""Lineage and governance records of one run, read from ML Metadata events.

`steps` lists, per execution of the run, the artifacts it read and wrote (so a
pushed model can be followed back to its examples, schema and span).
`governance` finds the records the governed push writes (docs/CONTRACTS.md:
execution types `tfxgate.Push`, `tfxgate.Approval`, `tfxgate.Rejection`,
`tfxgate.Rollback`, `tfxgate.PendingApproval` with string properties) that
belong to this run: their `run_id` is the run's, or they took its model as input.
"""

from __future__ import annotations

import json

import ml_metadata as mlmd
from ml_metadata import errors
from ml_metadata.proto import metadata_store_pb2

GOVERNANCE_TYPES = ("Push", "Approval", "Rejection", "Rollback", "PendingApproval")
_FIELDS = ("pipeline", "run_id", "destination", "version", "by", "reason", "at")
_INPUTS = (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT)
_OUTPUTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)


def steps(store: mlmd.MetadataStore, executions, *, node_of: dict[int, str]) -> list[dict]:
    """Per execution: its node and the artifacts (type, id, uri) it read and wrote."""
    ids = [e.id for e in executions]
    events = store.get_events_by_execution_ids(ids)
    artifacts = {a.id: a for a in store.get_artifacts_by_id(sorted({e.artifact_id for e in events}))}
    types = {t.id: t.name for t in store.get_artifact_types()}
    found = {i: {"node": node_of.get(i, str(i)), "execution_id": i, "reads": [], "writes": []} for i in ids}
    for event in sorted(events, key=lambda e: (e.execution_id, e.artifact_id)):
        artifact = artifacts.get(event.artifact_id)
        if artifact is None:
            continue
        entry = {"type": types.get(artifact.type_id, "?"), "id": artifact.id, "uri": artifact.uri}
        if event.type in _INPUTS:
            found[event.execution_id]["reads"].append(entry)
        elif event.type in _OUTPUTS:
            found[event.execution_id]["writes"].append(entry)
    return [found[i] for i in ids]


def governance(store: mlmd.MetadataStore, *, run_id: str, model_ids: list[int]) -> list[dict]:
    """This run's governance records, oldest first: kind, the contract's fields, and `gates` (parsed)."""
    records = []
    for kind in GOVERNANCE_TYPES:
        try:
            executions = store.get_executions_by_type(f"tfxgate.{kind}")
        except errors.NotFoundError:  # the type is registered on first use
            continue
        if not executions:
            continue
        inputs = {
            e.execution_id
            for e in store.get_events_by_execution_ids([x.id for x in executions])
            if e.type in _INPUTS and e.artifact_id in model_ids
        }
        for execution in executions:
            fields = {name: _string(execution, name) for name in (*_FIELDS, "gates")}
            if fields["run_id"] != run_id and execution.id not in inputs:
                continue
            gates = fields.pop("gates")
            records.append({"kind": kind, "execution_id": execution.id, **fields, "gates": _gates(gates)})
    return sorted(records, key=lambda r: (r["at"] or "", r["execution_id"]))


def _string(execution, name: str):
    for properties in (execution.properties, execution.custom_properties):
        if name in properties:
            return properties[name].string_value
    return None


def _gates(text):
    """`gates` JSON ({gate: {"passed": bool, "detail": str}}); an unreadable one is shown as such."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"unreadable": {"passed": False, "detail": text}}
