"""One run's facts from ML Metadata, as JSON-ready dicts for the report page.

A run is a TFX `pipeline_run` context (its name is the run id the CLI prints).
Everything is read from the store and from the files its artifacts point at:
the stage timeline from execution times and states, the data summary from the
Ingest and statistics artifacts, anomalies, drift, the slice evaluation, and the
governance records the governed push writes (see docs/CONTRACTS.md: `tfxgate.Push`,
`tfxgate.Approval`, ...). A section whose records are absent is left `None`, and
the page says "not recorded".
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import ml_metadata as mlmd

from tfxgate.artifacts import payloads
from tfxgate.lineage import run_steps as lineage
from tfxgate.mlmd.store import EXECUTION_STATES
from tfxgate.reporting.summary import outputs_by_type, read_anomalies

SHOWN_BAD_ROWS = 5


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

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, default=str)


def run_ids(store: mlmd.MetadataStore, pipeline: str) -> list[str]:
    """This pipeline's runs in the store, oldest first."""
    [context] = [c for c in store.get_contexts_by_type("pipeline") if c.name == pipeline] or [None]
    if context is None:
        return []
    mine = {e.id for e in store.get_executions_by_context(context.id)}
    runs = sorted(store.get_contexts_by_type("pipeline_run"), key=lambda c: (c.create_time_since_epoch, c.id))
    return [r.name for r in runs if any(e.id in mine for e in store.get_executions_by_context(r.id))]


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
    [context] = [c for c in store.get_contexts_by_type("pipeline_run") if c.name == run_id]
    executions = store.get_executions_by_context(context.id)
    return from_executions(store, executions, pipeline=pipeline, run_id=run_id, address=address)


def from_executions(store: mlmd.MetadataStore, executions, *, pipeline: str, run_id: str, address: str) -> RunReport:
    """The report of a set of executions (one pipeline run, or a notebook's stage-by-stage run)."""
    executions = sorted(executions, key=lambda e: e.id)
    stages = _stages(store, executions)
    report = RunReport(
        pipeline=pipeline,
        run_id=run_id,
        metadata=address,
        succeeded=all(s["state"] != "failed" for s in stages),
        seconds=round(max((s["start"] + s["seconds"] for s in stages), default=0.0), 1),
        stages=stages,
    )
    outputs = outputs_by_type(store, [e.id for e in executions])
    report.data = _data(outputs)
    report.anomalies = _anomalies(outputs)
    report.drift = _drift(outputs) or _blocked_drift(stages, outputs)
    report.evaluation = _evaluation(outputs)
    report.push = _push(outputs)
    records = lineage.governance(store, run_id=run_id, model_ids=[m.id for m in outputs.get("Model", [])])
    report.gates = next((r["gates"] for r in records if r.get("gates")), None)
    report.approvals = [r for r in records if r["kind"] in ("Approval", "Rejection", "PendingApproval", "Rollback")]
    pushes = [r for r in records if r["kind"] == "Push"]
    if pushes and report.push is not None:
        report.push["recorded_by"] = pushes[-1]
    report.lineage = lineage.steps(store, executions, node_of=_node_names(store, executions))
    return report


def _node_names(store: mlmd.MetadataStore, executions) -> dict[int, str]:
    """Execution id -> node id: from the `node` contexts, or (InteractiveContext) `component_id`."""
    wanted = {e.id for e in executions}
    names = {e.id: e.properties["component_id"].string_value for e in executions if "component_id" in e.properties}
    for node in store.get_contexts_by_type("node"):
        for execution in store.get_executions_by_context(node.id):
            if execution.id in wanted:
                names[execution.id] = node.name.split(".", 1)[-1]
    return names


def _stages(store: mlmd.MetadataStore, executions) -> list[dict]:
    """Per node: state, start offset and duration in seconds (MLMD's create/update times)."""
    names = _node_names(store, executions)
    types = {t.id: t.name for t in store.get_execution_types()}
    first = min((e.create_time_since_epoch for e in executions), default=0)
    stages = []
    for e in executions:
        state = EXECUTION_STATES.get(e.last_known_state, "unknown")
        if types.get(e.type_id, "").endswith("Resolver"):
            state = "resolved"
        stages.append(
            {
                "node": names.get(e.id, types.get(e.type_id, "?")),
                "state": state,
                "start": (e.create_time_since_epoch - first) / 1000,
                "seconds": max(e.last_update_time_since_epoch - e.create_time_since_epoch, 0) / 1000,
                "execution_id": e.id,
            }
        )
    return stages


def _prop(artifact, name: str, default=None):
    """A custom property's value (int, double, string or struct), or `default`."""
    if name not in artifact.custom_properties:
        return default
    value = artifact.custom_properties[name]
    kind = value.WhichOneof("value")
    if kind == "struct_value":
        from google.protobuf import json_format

        return json_format.MessageToDict(value.struct_value)
    return getattr(value, kind) if kind else default


def _data(outputs: dict) -> Optional[dict]:
    """Rows per split, bad rows and a few quarantined ones, span, input files, statistics per split."""
    examples = outputs.get("Examples", [])
    if not examples:
        return None
    [examples] = examples[-1:]
    rows = json.loads(_prop(examples, "rows_per_split", "{}"))
    data = {
        "uri": examples.uri,
        "span": _prop(examples, "span"),
        "rows_read": _prop(examples, "rows_read"),
        "bad_rows": _prop(examples, "bad_rows"),
        "input_files": json.loads(_prop(examples, "input_files_sha256", "{}")),
        "splits": {split: {"rows": count} for split, count in rows.items()},
        "quarantine": None,
        "quarantined": [],
    }
    for quarantine in outputs.get("tfxgate.Quarantine", [])[-1:]:
        data["quarantine"] = quarantine.uri
        path = Path(quarantine.uri) / "bad_rows.jsonl"
        if path.exists():
            with path.open() as handle:
                data["quarantined"] = [json.loads(line) for line in itertools.islice(handle, SHOWN_BAD_ROWS)]
    for statistics in outputs.get("ExampleStatistics", [])[-1:]:
        for split, facts in _statistics(Path(statistics.uri)).items():
            data["splits"].setdefault(split, {}).update(facts)
    return data


def _statistics(uri: Path) -> dict[str, dict]:
    """Examples and features per split, from the statistics artifact (no TFDV import needed)."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    found = {}
    for path in sorted(uri.glob("Split-*/FeatureStats.pb")):
        proto = statistics_pb2.DatasetFeatureStatisticsList.FromString(path.read_bytes())
        for dataset in proto.datasets[:1]:
            split = path.parent.name[len("Split-") :]
            found[split] = {"examples": int(dataset.num_examples), "features": len(dataset.features)}
    return found


def _anomalies(outputs: dict) -> Optional[dict]:
    """Validation's verdict: the Validate component's summary when present, else the anomaly protos."""
    found = outputs.get("ExampleAnomalies", [])
    if not found:
        return None
    artifact = found[-1]
    blessed = _prop(artifact, "blessed")
    if isinstance(blessed, dict):  # stock ExampleValidator: {split: 1.0}
        blessed = all(v == 1 for v in blessed.values())
    summary = _prop(artifact, "anomaly_summary")
    return {
        "blessed": None if blessed is None else bool(blessed),
        "summary": json.loads(summary) if summary else None,
        "by_split": read_anomalies(artifact.uri),
    }


def _drift(outputs: dict) -> Optional[dict]:
    reports = outputs.get("tfxgate.DriftReport", [])
    if not reports:
        return None
    path = Path(reports[-1].uri) / "drift_report.json"
    document = json.loads(path.read_text()) if path.exists() else {}
    blessing = outputs.get("tfxgate.DriftBlessing", [])
    return {
        "uri": str(path),
        "policy": document.get("policy"),
        "reports": document.get("reports", []),
        "blessed": bool(_prop(blessing[-1], "blessed", 1)) if blessing else None,
    }


def _blocked_drift(stages: list[dict], outputs: dict) -> Optional[dict]:
    """A DataDrift that blocked the run published nothing; its report was kept beside its outputs."""
    failed = [s for s in stages if s["node"] == "DataDrift" and s["state"] == "failed"]
    examples = outputs.get("Examples", [])
    if not failed or not examples:
        return None
    artifacts = Path(examples[-1].uri).parents[2]  # <root>/artifacts/Ingest/examples/<id>
    report_uri = artifacts / "DataDrift" / "drift_report" / str(failed[-1]["execution_id"])
    path = Path(payloads.kept_drift_report_dir(str(report_uri))) / payloads.DRIFT_REPORT_JSON
    if not path.exists():
        return None
    document = json.loads(path.read_text())
    return {"uri": str(path), "policy": document.get("policy"), "reports": document["reports"], "blessed": False}


def _evaluation(outputs: dict) -> Optional[dict]:
    evaluations = outputs.get("tfxgate.SliceEvaluation", [])
    blessings = outputs.get("ModelBlessing", [])
    if not evaluations and not blessings:
        return None
    found: dict = {"blessed": None}
    if evaluations:
        path = Path(evaluations[-1].uri) / "report.json"
        if path.exists():
            found.update(json.loads(path.read_text()))
        found["uri"] = str(path.parent / "report.html")
    if blessings:
        found["blessed"] = _prop(blessings[-1], "blessed") == 1
        found.setdefault("headline", _prop(blessings[-1], "blessing_message"))
    return found


def _push(outputs: dict) -> Optional[dict]:
    pushed = outputs.get("PushedModel", [])
    if not pushed:
        return None
    artifact = pushed[-1]
    return {
        "pushed": _prop(artifact, "pushed") == 1,
        "destination": _prop(artifact, "pushed_destination"),
        "version": _prop(artifact, "pushed_version"),
        "destination_name": _prop(artifact, "destination_name"),
        "uri": artifact.uri,
    }
