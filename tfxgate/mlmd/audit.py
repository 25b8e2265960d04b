"""The governance audit trail in ML Metadata: who pushed, approved, rejected, rolled back or promoted which model.

Every decision is an MLMD execution of one of the types below, with string
properties `pipeline`, `run_id`, `destination`, `version`, `by`, `reason`,
`at` (ISO-8601 UTC), `model_fingerprint` (the model's content identity, which
decisions bind to), `recovered` ("1" when rebuilt from a version's manifest),
`state` ("failed" when the version it names is gone) and, for Push /
PendingApproval, `gates` (JSON: gate -> {"passed", "detail"}). The Model artifact is an INPUT event of the execution,
the PushedModel an OUTPUT of a Push; each execution is associated with the
TFX `pipeline` context and, where there is one, the run's `pipeline_run`
context (a notebook run's `run` context). So "who let this model into
production, on what evidence" is a walk from the model in the store, not a
side file. `records` is the one reader of these executions: the governance
store, the run summary and report, the lineage and the model card all use its
`Record`. docs/CONTRACTS.md lists these records with the artifact properties
they are written from.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Iterable, Optional

from ml_metadata.proto import metadata_store_pb2

from tfxgate.mlmd.graph import Graph, value

PUSH, APPROVAL, REJECTION, ROLLBACK, PENDING = (
    "tfxgate.Push",
    "tfxgate.Approval",
    "tfxgate.Rejection",
    "tfxgate.Rollback",
    "tfxgate.PendingApproval",
)
REOPEN = "tfxgate.Reopen"  # a rejection lifted explicitly (`tfxgate reopen`, tfxgate/governance/store.py)
# A canary's candidate made stable / dropped (`tfxgate promote` / `abort`, tfxgate/governance/rollout.py):
# `version` is the candidate's, `previous_version` the stable one before.
PROMOTION, CANARY_ABORT = "tfxgate.Promotion", "tfxgate.CanaryAbort"
KINDS = (PUSH, APPROVAL, REJECTION, ROLLBACK, PENDING, REOPEN, PROMOTION, CANARY_ABORT)
PROPERTIES = (
    "pipeline",
    "run_id",
    "destination",
    "version",
    "by",
    "reason",
    "at",
    "gates",
    "previous_version",
    "model_fingerprint",  # the model's content identity (`governance.fingerprint`): decisions bind to it
    "recovered",  # "1" when rebuilt from a version's manifest by `governance.recovery`
    "state",  # "" normally; "failed" when recovery found the record's version directory missing
)
FAILED = "failed"  # a record's `state` when its version directory is gone
AUTO = "policy:auto"  # `by` of a push the pipeline made itself under approval `auto`
MANUAL = "policy:manual"  # `by` of a PendingApproval: the destination's approval is manual
AUTO_REASON = "every gate passed; destination approval is auto"
PENDING_REASON = "every gate passed; destination approval is manual: waiting for `tfxgate approve`"


@dataclass(frozen=True)
class Record:
    """One governance execution, read back (or, with `id` None, a decision about to be recorded)."""

    id: Optional[int]
    kind: str  # the execution type: PUSH, APPROVAL, ...
    pipeline: str = ""
    run_id: str = ""
    destination: str = ""
    version: str = ""
    by: str = ""
    reason: str = ""
    at: str = ""
    gates: str = ""  # JSON: gate -> {"passed", "detail"} (see `gate_results`)
    previous_version: str = ""
    model_fingerprint: str = ""
    recovered: str = ""
    state: str = ""
    model_id: Optional[int] = None
    pushed_model_id: Optional[int] = None

    @property
    def decision(self) -> str:
        """The kind in words: push, approval, rejection, rollback or pending_approval."""
        return _DECISIONS.get(self.kind, self.kind)

    @property
    def gate_results(self) -> dict[str, dict]:
        """`gates` parsed: gate -> {"passed", "detail"}; {} when none, an unreadable one shown as such."""
        if not self.gates:
            return {}
        try:
            return json.loads(self.gates)
        except ValueError:
            return {"unreadable": {"passed": False, "detail": self.gates}}


_DECISIONS = {
    PUSH: "push",
    APPROVAL: "approval",
    REJECTION: "rejection",
    ROLLBACK: "rollback",
    PENDING: "pending_approval",
    REOPEN: "reopen",
    PROMOTION: "promotion",
    CANARY_ABORT: "canary_abort",
}


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def record(
    store,
    kind: str,
    *,
    pipeline: str,
    run_id: str,
    destination: str,
    by: str,
    reason: str,
    version: str = "",
    gates: str = "",
    previous_version: str = "",
    model_fingerprint: str = "",
    recovered: bool = False,
    at: str = "",
    model_id: Optional[int] = None,
    pushed_model: Optional[metadata_store_pb2.Artifact] = None,
) -> Record:
    """Writes one governance execution with its events and contexts; returns it as read back.

    `at` defaults to now; a record rebuilt from a manifest keeps the manifest's time (and `recovered`).
    """
    values = dict(
        pipeline=pipeline,
        run_id=run_id,
        destination=destination,
        version=version,
        by=by,
        reason=reason,
        at=at or now(),
        gates=gates,
        previous_version=previous_version,
        model_fingerprint=model_fingerprint,
        recovered="1" if recovered else "",
        state="",
    )
    execution = string_execution(store, kind, PROPERTIES, values)
    links = []
    if model_id is not None:
        [model] = store.get_artifacts_by_id([model_id])
        links.append((model, event(metadata_store_pb2.Event.INPUT, "model")))
    if pushed_model is not None:
        links.append((pushed_model, event(metadata_store_pb2.Event.OUTPUT, "pushed_model")))
    contexts = [c for c in (_context(store, "pipeline", pipeline), _run_context(store, pipeline, run_id)) if c]
    execution_id, artifact_ids, _ = store.put_execution(execution, links, contexts)
    pushed_id = artifact_ids[-1] if pushed_model is not None else None
    return Record(execution_id, kind, model_id=model_id, pushed_model_id=pushed_id, **values)


def new_pushed_model(
    store, *, uri: str, destination_name: str, version: str, model_id: int
) -> metadata_store_pb2.Artifact:
    """An unsaved PushedModel artifact with the stock Pusher's properties (saved by `record`)."""
    [pushed_type] = [t for t in store.get_artifact_types() if t.name == "PushedModel"] or [None]
    type_id = (
        pushed_type.id if pushed_type else store.put_artifact_type(metadata_store_pb2.ArtifactType(name="PushedModel"))
    )
    artifact = metadata_store_pb2.Artifact(type_id=type_id, uri=uri, state=metadata_store_pb2.Artifact.LIVE)
    artifact.custom_properties["pushed"].int_value = 1
    artifact.custom_properties["pushed_destination"].string_value = uri
    artifact.custom_properties["pushed_version"].string_value = version
    artifact.custom_properties["destination_name"].string_value = destination_name
    artifact.custom_properties["model_id"].int_value = model_id
    return artifact


TRAINED_AT = "tfxgate_trained_at_ms"  # a Model registered after the fact: when its run judged it (ms since the epoch)


def model_at(store, uri: str, *, trained_at: str = "") -> int:
    """The id of the Model artifact at `uri` in this store, registered (LIVE, no producer) when there is none.

    For a model trained where this store was not reachable (a Kubeflow run's: its artifact is in the
    KFP backend's store), so that a decision about it has its Model input as every other decision does.
    MLMD stamps the registration's own time as the create time; `trained_at` (ISO-8601, the time its
    run recorded the decision) is kept beside it, since approval refuses a model older than the served one
    (`model_created_ms`): a model recovered late must not pass for a new one.
    """
    for found in store.get_artifacts_by_type("Model"):
        if found.uri == uri:
            return found.id
    type_id = store.put_artifact_type(metadata_store_pb2.ArtifactType(name="Model"), can_omit_fields=True)
    artifact = metadata_store_pb2.Artifact(type_id=type_id, uri=uri, state=metadata_store_pb2.Artifact.LIVE)
    if trained_at:
        moment = datetime.datetime.fromisoformat(trained_at)
        artifact.custom_properties[TRAINED_AT].int_value = int(moment.timestamp() * 1000)
    [artifact_id] = store.put_artifacts([artifact])
    return artifact_id


def model_created_ms(artifact) -> int:
    """When a Model artifact was trained, ms since the epoch: its create time, or `model_at`'s `trained_at`."""
    if TRAINED_AT in artifact.custom_properties:
        return artifact.custom_properties[TRAINED_AT].int_value
    return artifact.create_time_since_epoch


def records(store, *, pipeline: Optional[str], kinds: Iterable[str] = KINDS) -> list[Record]:
    """The pipeline's governance records of these kinds (every pipeline's when `pipeline` is None), oldest first."""
    graph = Graph(store)
    known = set(graph.execution_types.values())
    executions = [e for kind in kinds if kind in known for e in store.get_executions_by_type(kind)]
    executions = [e for e in executions if pipeline is None or e.properties["pipeline"].string_value == pipeline]
    if not executions:
        return []
    linked = graph.linked(e.id for e in executions)
    found = []
    for execution in sorted(executions, key=lambda e: e.id):
        model, pushed = _model_and_pushed(graph, [pair for pair in linked if pair[0].execution_id == execution.id])
        props = {key: execution.properties[key].string_value for key in PROPERTIES}
        found.append(
            Record(
                execution.id,
                graph.execution_type(execution),
                model_id=model.id if model is not None else None,
                pushed_model_id=pushed.id if pushed is not None else None,
                **props,
            )
        )
    return found


def find(store, *, kind: str, destination: str, model_fingerprint: str, pipeline: Optional[str] = None) -> list[Record]:
    """The live records of `kind` for this model (fingerprint) at this destination, oldest first.

    A push is identified by (model fingerprint, destination): writers call this
    first so that a retried or recovered write never adds a second record.
    Records marked `state` = "failed" (their version is gone) do not count.
    """
    if not model_fingerprint:
        return []
    return [
        r
        for r in records(store, pipeline=pipeline, kinds=(kind,))
        if r.destination == destination and r.model_fingerprint == model_fingerprint and r.state != FAILED
    ]


def version_path(store, record: Record) -> Optional[str]:
    """The version directory a Push record names: its PushedModel's `pushed_destination` (None when it has none yet).

    (GovernedPush's own PushedModel lives in the pipeline's artifacts; only
    `pushed_destination` says where the version is.)
    """
    if record.pushed_model_id is None:
        return None
    found = store.get_artifacts_by_id([record.pushed_model_id])
    if not found:
        return None
    return value(found[0], "pushed_destination") or found[0].uri


def mark_state(store, record_id: int, state: str) -> None:
    """Sets a record's `state` property (e.g. "failed": its version directory is gone); the record stays."""
    [execution] = store.get_executions_by_id([record_id])
    [execution_type] = store.get_execution_types_by_id([execution.type_id])
    # a store written before `state` existed gains the property
    execution_type_id(store, execution_type.name, PROPERTIES)
    execution.properties["state"].string_value = state
    store.put_execution(execution, [], [])


def link_output(store, record_id: int, artifact: metadata_store_pb2.Artifact) -> None:
    """Makes an existing PushedModel the OUTPUT of a record that has none (the component's own, once published)."""
    output = event(metadata_store_pb2.Event.OUTPUT, "pushed_model")
    output.execution_id, output.artifact_id = record_id, artifact.id
    store.put_events([output])


def record_pipeline_decisions(store, *, execution_id: int, pipeline: str, run_id: str) -> list[Record]:
    """Completes the audit records of a GovernedPush execution once TFX published its output; idempotent.

    The executor writes the records itself as it pushes (governance/push_records.py);
    this links the component's PushedModel to the first push's record and
    writes any record still missing (keyed by model fingerprint, destination
    and kind), so calling it again, or after the executor, adds nothing.
    Each destination pushed under `auto` has a tfxgate.Push; each `manual`
    destination with every gate passed a tfxgate.PendingApproval.
    """
    graph = Graph(store)
    model, output = _model_and_pushed(graph, graph.linked([execution_id]))
    if output is None or model is None:
        return []
    fingerprint = value(output, "model_fingerprint") or ""
    gates = value(output, "gates") or ""
    decisions = json.loads(value(output, "decisions") or "[]")
    written, output_used = [], False
    common = dict(pipeline=pipeline, run_id=run_id, gates=gates, model_id=model.id, model_fingerprint=fingerprint)
    for decision in decisions:
        name = decision["destination"]
        kind = {"push": PUSH, "pending": PENDING}.get(decision["action"])
        if kind is None:
            continue
        first_push = kind == PUSH and not output_used
        output_used = output_used or kind == PUSH
        found = find(store, kind=kind, destination=name, model_fingerprint=fingerprint)
        if kind == PUSH:  # the record of this version (the destination's path may have changed since another)
            found = [
                r
                for r in found
                if r.version == decision["version"] and version_path(store, r) in (None, decision["path"])
            ]
        if found:
            if first_push and found[0].pushed_model_id is None:
                link_output(store, found[0].id, output)
            written.append(found[0])
            continue
        if kind == PENDING:
            written.append(record(store, PENDING, destination=name, by=MANUAL, reason=PENDING_REASON, **common))
            continue
        pushed = output
        if not first_push:
            pushed = new_pushed_model(
                store, uri=decision["path"], destination_name=name, version=decision["version"], model_id=model.id
            )
        version = decision["version"]
        written.append(
            record(
                store,
                PUSH,
                destination=name,
                version=version,
                by=AUTO,
                reason=AUTO_REASON,
                pushed_model=pushed,
                **common,
            )
        )
    return written


def _model_and_pushed(graph: Graph, linked: list) -> tuple:
    """(the Model the execution read, the PushedModel it wrote) among its (event, artifact) pairs; None when absent."""
    model = next((a for link, a in linked if link.is_input and graph.type_of(a) == "Model"), None)
    pushed = next((a for link, a in linked if link.is_output and graph.type_of(a) == "PushedModel"), None)
    return model, pushed


def event(kind, key: str) -> metadata_store_pb2.Event:
    """An event whose path names the artifact by key (and index 0), as TFX writes its own events."""
    made = metadata_store_pb2.Event(type=kind)
    made.path.steps.add().key = key
    made.path.steps.add().index = 0
    return made


def execution_type_id(store, name: str, properties: Iterable[str]) -> int:
    """Registers (or finds) tfxgate's execution type `name`, every property a string.

    `can_add_fields`: a store written by an older tfxgate gains the properties added since.
    """
    execution_type = metadata_store_pb2.ExecutionType(name=name)
    for key in properties:
        execution_type.properties[key] = metadata_store_pb2.STRING
    return store.put_execution_type(execution_type, can_add_fields=True)


def string_execution(store, name: str, properties: Iterable[str], values: dict) -> metadata_store_pb2.Execution:
    """A COMPLETE execution of tfxgate's type `name` holding `values` (strings) as its properties, not yet put."""
    execution = metadata_store_pb2.Execution(
        type_id=execution_type_id(store, name, properties), last_known_state=metadata_store_pb2.Execution.COMPLETE
    )
    for key, text in values.items():
        execution.properties[key].string_value = text
    return execution


def _context(store, type_name: str, name: str):
    if not name:
        return None
    return store.get_context_by_type_and_name(type_name, name)  # None when absent


def _run_context(store, pipeline: str, run_id: str):
    """The run's context: `pipeline_run` (portable launcher: local, Kubeflow), else the `run` context
    `<pipeline>.<run id>` that TFX's legacy launcher (a notebook's InteractiveContext) records."""
    found = _context(store, "pipeline_run", run_id)
    if found is None and pipeline and run_id:
        found = _context(store, "run", f"{pipeline}.{run_id}")
    return found
