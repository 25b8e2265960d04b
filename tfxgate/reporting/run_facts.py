"""One run's facts from ML Metadata, as JSON-ready dicts for the report page.

A run is a TFX `pipeline_run` context (its name is the run id the CLI prints).
Everything is read from the store and from the files its artifacts point at:
the stage timeline from execution times and states, the data summary from the
Ingest and statistics artifacts, anomalies, drift, the slice evaluation (each
read by tfxgate/artifacts/), the governance records the governed push writes
(`tfxgate.Push`, `tfxgate.Approval`, ..., read by `audit.records`) and what
each execution read and wrote (`Graph.reads_and_writes`). A section whose
records are absent is left `None`, and the page says "not recorded".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import ml_metadata as mlmd

from tfxgate.artifacts import anomalies, blessing, drift_report, evaluation, examples, pushed, statistics
from tfxgate.mlmd import audit
from tfxgate.mlmd.graph import Graph
from tfxgate.mlmd.store import EXECUTION_STATES

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
    seconds: float
    stages: list[dict] = field(default_factory=list)
    data: Optional[dict] = None
    anomalies: Optional[dict] = None
    drift: Optional[dict] = None
    evaluation: Optional[dict] = None
    gates: Optional[dict] = None
    approvals: list[dict] = field(default_factory=list)
    push: Optional[dict] = None
    lineage: list[dict] = field(default_factory=list)
    # SUCCEEDED | BLOCKED | FAILED | INCOMPLETE, from the executions' states in ML Metadata (`status_of`)
    status: str = "SUCCEEDED"

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
    """The report of a set of executions (one pipeline run, or a notebook's stage-by-stage run)."""
    graph = Graph(store)
    executions = sorted(executions, key=lambda e: e.id)
    stages = _stages(graph, executions)
    report = RunReport(
        pipeline=pipeline,
        run_id=run_id,
        metadata=address,
        succeeded=all(s["state"] != "failed" for s in stages),
        seconds=round(max((s["start"] + s["seconds"] for s in stages), default=0.0), 1),
        stages=stages,
    )
    outputs = graph.outputs_by_type(e.id for e in executions)
    report.data = _data(outputs)
    report.anomalies = _anomalies(outputs)
    report.drift = _drift(outputs) or _blocked_drift(stages, outputs)
    report.evaluation = _evaluation(outputs)
    if report.evaluation is not None:  # models are named by Model artifact id, as history and lineage name them
        report.evaluation["model_id"] = next((m.id for m in outputs.get("Model", [])), None)
        uri = report.evaluation.get("baseline_model")
        models = [a for a in store.get_artifacts_by_uri(uri) if graph.type_of(a) == "Model"] if uri else []
        report.evaluation["baseline_model_id"] = models[0].id if models else None
    report.push = _push(outputs)
    records = _governance(store, pipeline=pipeline, run_id=run_id, model_ids={m.id for m in outputs.get("Model", [])})
    report.gates = next((r["gates"] for r in records if r.get("gates")), None)
    report.approvals = [r for r in records if r["kind"] in ("Approval", "Rejection", "PendingApproval", "Rollback")]
    pushes = [r for r in records if r["kind"] == "Push"]
    if pushes and report.push is not None:
        report.push["recorded_by"] = pushes[-1]
    report.lineage = graph.reads_and_writes(executions)
    report.status = status_of(report)
    report.succeeded = report.status == "SUCCEEDED"
    return report


def status_of(report: RunReport) -> str:
    """The run's status as ML Metadata records it, never as a summary file says.

    FAILED: a stage failed or was canceled (a drift block excepted); INCOMPLETE: a stage is still
    RUNNING/NEW (its process was killed; recovery later marks it FAILED); BLOCKED: a gate stopped
    the push (drift, validation, evaluation, or a push with nothing pushed nor left pending).
    """
    states = {s["state"] for s in report.stages}
    drift_blocked = report.drift is not None and report.drift.get("blessed") is False
    failed = [s for s in report.stages if s["state"] in ("failed", "canceled")]
    if failed and not (drift_blocked and all(s["node"] == "DataDrift" for s in failed)):
        return "FAILED"
    if states & {"running", "new"}:
        return "INCOMPLETE"
    if report.push is not None and report.push["pushed"]:
        return "SUCCEEDED"
    blocked = (
        drift_blocked
        or (report.anomalies is not None and report.anomalies.get("blessed") is False)
        or (report.evaluation is not None and report.evaluation.get("blessed") is False)
        or (
            report.push is not None
            and not report.push["pushed"]
            and not any(a["kind"] == "PendingApproval" for a in report.approvals)
        )
    )
    return "BLOCKED" if blocked else "SUCCEEDED"


def _governance(store: mlmd.MetadataStore, *, pipeline: str, run_id: str, model_ids: set[int]) -> list[dict]:
    """This run's governance records, oldest first: their `run_id` is the run's, or they took its model."""
    mine = [r for r in audit.records(store, pipeline=pipeline) if r.run_id == run_id or r.model_id in model_ids]
    return [
        {
            "kind": r.kind.split(".", 1)[-1],  # Push, Approval, ...
            "execution_id": r.id,
            **{
                name: getattr(r, name)
                for name in ("pipeline", "run_id", "destination", "version", "by", "reason", "at")
            },
            "gates": r.gate_results or None,
        }
        for r in sorted(mine, key=lambda r: (r.at or "", r.id))
    ]


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


def _blocked_drift(stages: list[dict], outputs: dict) -> Optional[dict]:
    """A DataDrift that blocked the run published nothing; its report was kept beside its outputs."""
    failed = [s for s in stages if s["node"] == "DataDrift" and s["state"] == "failed"]
    found = outputs.get("Examples", [])
    if not failed or not found:
        return None
    artifacts = Path(found[-1].uri).parents[2]  # <root>/artifacts/Ingest/examples/<id>
    report_uri = artifacts / "DataDrift" / "drift_report" / str(failed[-1]["execution_id"])
    kept = drift_report.kept_dir(str(report_uri))
    document = drift_report.read(kept)
    if document is None:
        return None
    path = str(Path(kept) / drift_report.DRIFT_REPORT_JSON)
    return {"uri": path, "policy": document.get("policy"), "reports": document["reports"], "blessed": False}


def _evaluation(outputs: dict) -> Optional[dict]:
    evaluations = outputs.get("tfxgate.SliceEvaluation", [])
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
