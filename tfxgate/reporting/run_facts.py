"""One run's facts from ML Metadata, as JSON-ready dicts for the report page.

A run is a TFX `pipeline_run` context (its name is the run id the CLI prints).
Everything is read from the store and from the files its artifacts point at:
the stage timeline from execution times and states, the data summary from the
Ingest and statistics artifacts, anomalies, drift, the slice evaluation (each
read by tfxgate/artifacts/), the governance records the governed push writes
(`tfxgate.Push`, `tfxgate.Approval`, ..., read by `audit.records`) and what
each execution read and wrote (`Graph.reads_and_writes`). The status is the
run summary's (`summary.from_store` + `summary.judge`), so the page, `summary.json`
and the CLI's exit code follow one rule. A section whose records are absent is
left `None`, and the page says "not recorded".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import ml_metadata as mlmd

from tfxgate.artifacts import (
    anomalies,
    blessing,
    drift_report,
    evaluation,
    examples,
    hyperparameters,
    pushed,
    statistics,
)
from tfxgate.lineage.evidence import transform_evidence
from tfxgate.mlmd import audit
from tfxgate.mlmd.graph import Graph
from tfxgate.mlmd.store import EXECUTION_STATES
from tfxgate.reporting import summary

SHOWN_BAD_ROWS = 5
_RECORD_FIELDS = ("pipeline", "run_id", "destination", "version", "by", "reason", "at")


class ReportError(Exception):
    """The run cannot be reported (unknown run id, empty store); the message says which runs exist."""


@dataclass
class RunReport:
    """Everything the page shows; `None` means the run recorded nothing for that section."""

    pipeline: str
    run_id: str
    metadata: str
    succeeded: bool
    seconds: float  # the run's own: first stage start -> last stage end (decisions made later do not count)
    stages: list[dict] = field(default_factory=list)
    data: Optional[dict] = None
    hyperparameters: Optional[dict] = None  # {artifact_id, values, tuned, trials}: the Trainer's, with stages.tune
    transform: Optional[dict] = None  # stages.transform: graph, module, pre/post-transform statistics
    anomalies: Optional[dict] = None
    drift: Optional[dict] = None
    evaluation: Optional[dict] = None
    gates: Optional[dict] = None
    approvals: list[dict] = field(default_factory=list)  # every decision on the run's model, oldest first
    push: Optional[dict] = None  # the run's own push stage output (pushed or not)
    lineage: list[dict] = field(default_factory=list)
    # SUCCEEDED | BLOCKED | FAILED | INCOMPLETE: `summary.judge`, the rule the CLI exits by
    status: str = "SUCCEEDED"
    blocked_by: list[str] = field(default_factory=list)
    never_ran: list[str] = field(default_factory=list)  # stages of the run's plan with no execution
    pushes: list[dict] = field(default_factory=list)  # every version pushed: by the run itself and approved later
    stopped: Optional[dict] = None  # {stage, anomalies, drift}: the gate stage that stopped the run, what tripped it

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, default=str)


def run_ids(store: mlmd.MetadataStore, pipeline: str) -> list[str]:
    """This pipeline's runs in the store, oldest first."""
    return Graph(store).pipeline_runs(pipeline)


def collect(store: mlmd.MetadataStore, *, pipeline: str, run_id: Optional[str], address: str) -> RunReport:
    """Reads one run (the latest when `run_id` is None or "latest") of `pipeline` from the store.

    Raises:
      ReportError: no such run; the message lists the latest runs there are.
    """
    known = run_ids(store, pipeline)
    if not known:
        raise ReportError(f"no runs of pipeline '{pipeline}' in {address}")
    if run_id in (None, "latest"):
        run_id = known[-1]
    if run_id not in known:
        latest = ", ".join(known[-5:])
        raise ReportError(f"no run '{run_id}' of pipeline '{pipeline}' in {address}; latest runs: {latest}")
    executions = Graph(store).run_executions(run_id)
    return from_executions(store, executions, pipeline=pipeline, run_id=run_id, address=address)


def from_executions(store: mlmd.MetadataStore, executions, *, pipeline: str, run_id: str, address: str) -> RunReport:
    """The report of a set of executions (one pipeline run, or a notebook's stage-by-stage run).

    The governance records associated with the run (a push, an approval made days later)
    are listed as pushes and decisions, never as stages.
    """
    graph = Graph(store)
    executions = sorted(executions, key=lambda e: e.id)
    records = [e for e in executions if graph.execution_type(e) in audit.KINDS]
    executions = [e for e in executions if graph.execution_type(e) not in audit.KINDS]
    judged = summary.from_store(store, executions, pipeline=pipeline, run_id=run_id, address=address, kind="")
    stages = _stages(graph, executions)
    report = RunReport(
        pipeline=pipeline,
        run_id=run_id,
        metadata=address,
        succeeded=judged.succeeded,
        seconds=round(max((s["start"] + s["seconds"] for s in stages), default=0.0), 1),
        stages=stages,
        status=judged.status,
        blocked_by=judged.blocked_by,
        never_ran=summary.never_ran(judged) if judged.status == "INCOMPLETE" else [],
    )
    # Transform writes Examples, statistics and anomalies of its own: they are the transform's, not the data's.
    transforms = [e for e in executions if graph.outputs([e], type_name="TransformGraph")]
    outputs = graph.outputs_by_type(e.id for e in executions if e not in transforms)
    report.data = _data(outputs)
    report.hyperparameters = _hyperparameters(outputs)
    report.transform = _transform(graph, transforms)
    report.anomalies = _anomalies(outputs) or _stopped_anomalies(judged)
    report.drift = _drift(outputs) or _stopped_drift(judged)
    report.evaluation = _evaluation(outputs)
    if report.evaluation is not None:  # models are named by Model artifact id, as history and lineage name them
        report.evaluation["model_id"] = judged.model_id
        report.evaluation["baseline_model_id"] = judged.baseline_model_id
    report.push = _push(outputs)
    found = _governance(store, pipeline=pipeline, run_id=run_id, model_ids={m.id for m in outputs.get("Model", [])})
    report.gates = next((r["gates"] for r in found if r.get("gates")), None)
    report.approvals = _decisions(found)
    report.pushes = _pushes(store, found, outputs)
    report.stopped = _stopped(judged, report)
    report.lineage = _lineage(graph, [*executions, *records], found)
    return report


def _decisions(records: list[dict]) -> list[dict]:
    """Every decision on the run's model; an approval carries the version its push created."""
    decisions = [dict(r) for r in records if r["kind"] in DECISIONS]
    for decision in decisions:
        if decision["kind"] == "Approval" and not decision["version"]:
            after = [
                r
                for r in records
                if r["kind"] == "Push"
                and r["execution_id"] > decision["execution_id"]
                and r["destination"] == decision["destination"]
                and r["model"] == decision["model"]
            ]
            decision["version"] = after[0]["version"] if after else ""
    return decisions


def _pushes(store: mlmd.MetadataStore, records: list[dict], outputs: dict) -> list[dict]:
    """Every version of the run's model pushed: its push records (automatic and approved), oldest
    first, then pushes of a stage that records none (the stock Pusher)."""
    found = [
        {
            "destination": r["destination"],
            "version": r["version"],
            "path": r["path"],
            "by": r["by"],
            "at": r["at"],
            "how": "automatic" if r["by"].startswith("policy:") else "approved",
            "state": r["state"],
        }
        for r in records
        if r["kind"] == "Push"
    ]
    recorded = {r["pushed_model"] for r in records if r["kind"] == "Push"}
    for artifact in outputs.get("PushedModel", []):
        push = pushed.read(artifact)
        if push.pushed and artifact.id not in recorded and not any(f["path"] == push.destination for f in found):
            found.append(
                {
                    "destination": push.destination_name or "",
                    "version": push.version,
                    "path": push.destination,
                    "by": "",
                    "at": "",
                    "how": "by the run",
                    "state": "",
                }
            )
    return found


def _stopped(judged: summary.RunSummary, report: RunReport) -> Optional[dict]:
    """The gate stage that stopped the run, why, and the anomalies or drift measures that tripped it."""
    if report.status != "BLOCKED" or judged.failed_stage is None:
        return None
    failing = [a for a in (report.anomalies or {}).get("summary") or [] if a.get("policy") == "fail"]
    tripped = [
        {
            "kind": r["kind"],
            "feature": f["feature"],
            "measure": m,
            "value": f["values"][m],
            "threshold": f["thresholds"][m],
        }
        for r in (report.drift or {}).get("reports", [])
        for f in r.get("features", [])
        for m in f.get("fired", [])
    ]
    return {
        "stage": judged.failed_stage,
        "anomalies": failing if judged.failed_stage == summary.VALIDATE_STAGE else [],
        "drift": tripped if judged.failed_stage == summary.DRIFT_STAGE else [],
    }


DECISIONS = ("PendingApproval", "Approval", "Rejection", "Reopen", "Rollback")


def _governance(store: mlmd.MetadataStore, *, pipeline: str, run_id: str, model_ids: set[int]) -> list[dict]:
    """This run's governance records, oldest first: their `run_id` is the run's, or they took its model."""
    mine = [r for r in audit.records(store, pipeline=pipeline) if r.run_id == run_id or r.model_id in model_ids]
    return [
        {
            "kind": r.kind.split(".", 1)[-1],  # Push, Approval, ...
            "execution_id": r.id,
            **{name: getattr(r, name) for name in _RECORD_FIELDS},
            "state": r.state,
            "gates": r.gate_results or None,
            "model": r.model_fingerprint or r.model_id,
            "pushed_model": r.pushed_model_id,
            "path": audit.version_path(store, r) if r.kind == audit.PUSH else None,
        }
        for r in sorted(mine, key=lambda r: (r.at or "", r.id))
    ]


def _lineage(graph: Graph, executions, records: list[dict]) -> list[dict]:
    """What each stage (and each decision recorded in the run) read and wrote; a read made by an
    earlier run is marked `earlier`, a decision is named by what it decided."""
    steps = graph.reads_and_writes(executions)
    written = {a["id"] for step in steps for a in step["writes"]}
    named = {r["execution_id"]: _record_name(r) for r in records}
    for step in steps:
        step["node"] = named.get(step["execution_id"], step["node"])
        for artifact in step["reads"]:
            artifact["earlier"] = artifact["id"] not in written
    return steps


def _record_name(record: dict) -> str:
    where = ", ".join(x for x in (record["destination"], record["version"] and f"version {record['version']}") if x)
    who = f" by {record['by']}" if record["by"] else ""
    return f"{record['kind']} ({where}){who}" if where else f"{record['kind']}{who}"


def _stages(graph: Graph, executions) -> list[dict]:
    """Per node: state, start offset and duration in seconds (MLMD's create/update times)."""
    names = graph.node_names(executions)
    first = min((e.create_time_since_epoch for e in executions), default=0)
    stages = []
    for e in executions:
        state = EXECUTION_STATES.get(e.last_known_state, "unknown")
        if graph.execution_type(e).endswith("Resolver"):
            state = "resolved"
        stages.append(
            {
                "node": names.get(e.id, graph.execution_type(e) or "?"),
                "state": state,
                "start": (e.create_time_since_epoch - first) / 1000,
                "seconds": max(e.last_update_time_since_epoch - e.create_time_since_epoch, 0) / 1000,
                "execution_id": e.id,
            }
        )
    return stages


def _data(outputs: dict) -> Optional[dict]:
    """Rows per split, bad rows and a few quarantined ones, span, input files, statistics per split."""
    found = outputs.get("Examples", [])
    if not found:
        return None
    facts = examples.read(found[-1])
    data = {
        "uri": facts.uri,
        "span": facts.span,
        "rows_read": facts.rows_read,
        "bad_rows": facts.bad_rows,
        "input_files": facts.input_files,
        "splits": {split: {"rows": count} for split, count in facts.rows_per_split.items()},
        "quarantine": None,
        "quarantined": [],
    }
    for quarantine in outputs.get("tfxgate.Quarantine", [])[-1:]:
        data["quarantine"] = quarantine.uri
        data["quarantined"] = examples.quarantined_rows(quarantine.uri, limit=SHOWN_BAD_ROWS)
    for artifact in outputs.get("ExampleStatistics", [])[-1:]:
        for split, counts in statistics.split_statistics(artifact.uri).items():
            data["splits"].setdefault(split, {}).update(counts)
    return data


def _hyperparameters(outputs: dict) -> Optional[dict]:
    """The best hyperparameters the run's Trainer got: searched in this run (`tuned`), or reused from an earlier one."""
    found = outputs.get("HyperParameters", [])
    if not found:
        return None
    results = outputs.get("TunerResults", [])
    facts = hyperparameters.read(found[-1], results=results[-1] if results else None)
    return {"artifact_id": facts.artifact_id, "values": facts.values, "tuned": bool(results), "trials": facts.trials}


def _transform(graph: Graph, transforms: list) -> Optional[dict]:
    """The run's Transform (the newest, if several): what tfxgate/lineage/evidence.py records of it."""
    found = graph.outputs(transforms[-1:], type_name="TransformGraph")
    if not found:
        return None
    return asdict(transform_evidence(graph, found[-1], runs=[graph.run_ids(transforms[-1:])]))


def _anomalies(outputs: dict) -> Optional[dict]:
    """Validation's verdict: the Validate component's summary when present, else the anomaly protos."""
    found = outputs.get("ExampleAnomalies", [])
    if not found:
        return None
    artifact = found[-1]
    return {
        "blessed": blessing.read(artifact).blessed,
        "summary": anomalies.summary(artifact),
        "by_split": anomalies.lines(artifact.uri),
    }


def _drift(outputs: dict) -> Optional[dict]:
    reports = outputs.get("tfxgate.DriftReport", [])
    if not reports:
        return None
    document = drift_report.read(reports[-1].uri) or {}
    found = outputs.get("tfxgate.DriftBlessing", [])
    verdict = blessing.read(found[-1]).blessed if found else None
    return {
        "uri": str(Path(reports[-1].uri) / drift_report.DRIFT_REPORT_JSON),
        "policy": document.get("policy"),
        "reports": document.get("reports", []),
        "blessed": None if not found else verdict is not False,  # no `blessed` property: not blocked
    }


def _stopped_drift(judged: summary.RunSummary) -> Optional[dict]:
    """A DataDrift that stopped the run published nothing; its report was kept beside its outputs."""
    if judged.kept is None or judged.failed_stage != summary.DRIFT_STAGE:
        return None
    document = drift_report.read(judged.kept)
    if document is None:
        return None
    path = str(Path(judged.kept) / drift_report.DRIFT_REPORT_JSON)
    return {"uri": path, "policy": document.get("policy"), "reports": document["reports"], "blessed": False}


def _stopped_anomalies(judged: summary.RunSummary) -> Optional[dict]:
    """A Validate that stopped the run published nothing; its anomaly summary was kept beside its outputs."""
    if judged.kept is None or judged.failed_stage != summary.VALIDATE_STAGE:
        return None
    found = anomalies.kept_summary(judged.kept)
    return None if found is None else {"blessed": False, "summary": found, "by_split": {}}


def _evaluation(outputs: dict) -> Optional[dict]:
    evaluations = evaluation.evaluation_outputs(outputs)
    blessings = outputs.get("ModelBlessing", [])
    if not evaluations and not blessings:
        return None
    found: dict = {"blessed": None}
    if evaluations:
        found.update(evaluation.read(evaluations[-1].uri) or {})
        found["uri"] = str(Path(evaluations[-1].uri) / evaluation.EVALUATION_HTML)
    if blessings:
        verdict = blessing.read(blessings[-1])
        found["blessed"] = verdict.blessed is True
        found.setdefault("headline", verdict.message)
    return found


def _push(outputs: dict) -> Optional[dict]:
    found = outputs.get("PushedModel", [])
    if not found:
        return None
    push = pushed.read(found[-1])
    return {
        "pushed": push.pushed,
        "destination": push.destination,
        "version": push.version,
        "destination_name": push.destination_name,
        "uri": push.uri,
    }
