"""What a finished run decided, read back from ML Metadata.

The summary is computed from the store, not from the runner's memory, so it
says what MLMD will say to anyone who asks later: the anomalies found, whether
the model was blessed and against which baseline, and where it was pushed.
The run's outputs are found through tfxgate/mlmd/graph.py and read with the
artifact readers of tfxgate/artifacts/.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import ml_metadata as mlmd

from tfxgate.artifacts import anomalies, blessing, drift_report, evaluation, pushed
from tfxgate.mlmd import audit
from tfxgate.mlmd.graph import Graph, value
from tfxgate.mlmd.settings import MetadataSection, SqliteMetadata
from tfxgate.mlmd.store import MetadataError, open_store, sqlite_path
from tfxgate.reporting.outcome import RunOutcome
from tfxgate.storage import strict_json


@dataclass
class RunSummary:
    """Decisions of one run: the CLI prints it, `summary.json` keeps it."""

    pipeline: str
    run_id: str
    succeeded: bool
    seconds: float
    metadata: str  # the store's address: a SQLite path or mysql://user@host:port/db
    metadata_kind: str
    stages: list[dict] = field(default_factory=list)
    failed_stage: Optional[str] = None
    error: Optional[str] = None
    anomalies: Optional[dict[str, list[str]]] = None
    validation_blessed: Optional[bool] = None
    # blessed, retrain, policy, report; reports: [{kind, baseline, compared, drifted: {feature: [measures]}}]
    drift: Optional[dict] = None
    inferred_schema: Optional[str] = None  # the Schema artifact's file when no curated schema is configured
    schema_proposal: Optional[str] = None  # where `tfxgate run` copied it for review (see schema_proposal.py)
    blessed: Optional[bool] = None
    baseline_model: Optional[str] = None
    failing_slices: list[str] = field(default_factory=list)
    failed_gates: list[str] = field(default_factory=list)
    report: Optional[str] = None
    pushed: Optional[bool] = None
    pushed_to: Optional[str] = None
    model_uri: Optional[str] = None
    gates: dict[str, dict] = field(default_factory=dict)  # gate -> {"passed", "detail"} (GovernedPush)
    destinations: list[dict] = field(default_factory=list)  # {destination, approval, action, version, path, ...}
    config: Optional[str] = None
    # How the CLI located this run's pipeline (`-c CONFIG [--root DIR] [--set k=v ...]`, shell-quoted):
    # a printed command repeats them, so it works when pasted.
    cli_options: Optional[str] = None

    def to_json(self) -> str:
        """Strict JSON: a non-finite number is null, its reason under `"nulls"` (tfxgate/storage/strict_json.py)."""
        return strict_json.dumps(asdict(self), reason="not a number in the run's records", indent=2, sort_keys=True)


def summarize(
    outcome: RunOutcome, *, metadata: MetadataSection, config_file: Optional[Path] = None, curated_schema: bool
) -> RunSummary:
    """Collects the run's decisions from ML Metadata.

    Args:
      outcome: what the runner saw, node by node (its execution ids lead into the store).
      metadata: the store the run wrote to (`metadata:` of the config), under `outcome.root`.
      config_file: the config the run came from, named in the summary.
      curated_schema: whether the config names a curated schema (else the inferred one is reported).
    """
    summary = RunSummary(
        pipeline=outcome.pipeline_name,
        run_id=outcome.run_id,
        succeeded=outcome.succeeded,
        seconds=round(outcome.seconds, 1),
        metadata=outcome.metadata,
        metadata_kind=metadata.kind,
        config=str(config_file) if config_file else None,
        stages=[{"node": n.node_id, "state": n.state, "seconds": round(n.seconds, 1)} for n in outcome.nodes],
    )
    if outcome.failed_node:
        summary.failed_stage = outcome.failed_node.node_id
        summary.error = outcome.failed_node.error
    if isinstance(metadata, SqliteMetadata) and not sqlite_path(metadata, root=outcome.root).exists():
        return summary
    try:
        store = open_store(metadata, root=outcome.root, read_only=True)
    except MetadataError as err:  # e.g. the server went away: the run's own outcome still stands
        summary.error = summary.error or str(err)
        return summary
    graph = Graph(store)
    outputs = graph.outputs_by_type(n.execution_id for n in outcome.nodes if n.execution_id is not None)
    _read_blocked_drift(summary, outcome, graph)
    for artifact in outputs.get("ExampleAnomalies", []):
        _read_validation(summary, artifact)
    for report in outputs.get("tfxgate.DriftReport", []):
        _read_drift_report(summary, report.uri)
    for artifact in outputs.get("tfxgate.DriftBlessing", []):
        found = blessing.read(artifact)
        summary.drift = summary.drift or {"reports": []}
        summary.drift["blessed"] = bool(found.blessed)
        summary.drift["retrain"] = bool(found.retrain)
    if not curated_schema:
        for schema in outputs.get("Schema", []):
            summary.inferred_schema = str(Path(schema.uri) / "schema.pbtxt")
    for model in outputs.get("Model", []):
        summary.model_uri = model.uri
    for artifact in outputs.get("ModelBlessing", []):
        found = blessing.read(artifact)
        summary.blessed = bool(found.blessed)
        summary.baseline_model = found.baseline_model
    for artifact in outputs.get("tfxgate.SliceEvaluation", []):
        _read_slice_report(summary, artifact.uri)
    for artifact in outputs.get("PushedModel", []):
        push = pushed.read(artifact)
        summary.pushed = push.pushed
        summary.pushed_to = push.destination if push.pushed else None
        _read_governed_push(summary, store, push)
    return summary


def _read_governed_push(summary: RunSummary, store: mlmd.MetadataStore, push: pushed.Push) -> None:
    """Gate results and per-destination decisions from GovernedPush, with any later human decision."""
    if push.decisions is None:  # the stock Pusher
        return
    summary.gates = push.gates
    summary.destinations = push.decisions
    later = [r for r in audit.records(store, pipeline=summary.pipeline) if r.model_id == push.model_id]
    for decision in summary.destinations:
        if decision["action"] != "pending":
            continue
        mine = [r for r in later if r.destination == decision["destination"]]
        pending = next((r for r in mine if r.kind == audit.PENDING), None)
        decision["run_id"] = pending.run_id if pending else summary.run_id
        decided = [r for r in mine if r.kind in (audit.PUSH, audit.REJECTION) and r.run_id == decision["run_id"]]
        if decided:
            decision["action"] = "pushed after approval" if decided[-1].kind == audit.PUSH else "rejected"
            decision["version"] = decided[-1].version
            decision["by"] = decided[-1].by


def _read_slice_report(summary: RunSummary, uri: str) -> None:
    """Failing slices and gate messages from SliceEval's report (components/slice_eval)."""
    report = evaluation.read(uri)
    if report is None:
        return
    summary.failing_slices = report["failing_slices"]
    summary.failed_gates = [failure["message"] for failure in report["failures"]]
    summary.report = str(Path(uri) / evaluation.EVALUATION_HTML)


def _read_validation(summary: RunSummary, artifact) -> None:
    """Anomalies per split: Validate's `anomaly_summary` (with policies), else ExampleValidator's files."""
    found = anomalies.summary(artifact)
    if found is None:
        summary.anomalies = anomalies.lines(artifact.uri)
        return
    splits = json.loads(value(artifact, "split_names") or "[]")
    summary.anomalies = {split: [] for split in splits}
    for item in found:
        line = f"{item['feature']}: {item['kind']}: {item['description']} (policy {item['policy']})"
        summary.anomalies.setdefault(item["split"], []).append(line)
    summary.validation_blessed = blessing.read(artifact).blessed is True


def _read_drift_report(summary: RunSummary, uri: str) -> None:
    """Drifted features and the measures that fired, from DataDrift's drift report."""
    document = drift_report.read(uri)
    if document is None:
        return
    summary.drift = summary.drift or {}
    summary.drift["policy"] = document["policy"]
    summary.drift["report"] = str(Path(uri) / drift_report.DRIFT_REPORT_HTML)
    summary.drift["reports"] = [
        {
            "kind": comparison["kind"],
            "baseline": comparison["baseline"],
            "compared": comparison["features_compared"],
            "drifted": {d["feature"]: list(d["fired"]) for d in comparison["drifted"]},
        }
        for comparison in drift_report.comparisons(document)
    ]


def _read_blocked_drift(summary: RunSummary, outcome: RunOutcome, graph: Graph) -> None:
    """The drift report of a DataDrift that blocked the run: TFX discarded its outputs, the
    executor kept a copy (`drift_report.kept_dir`), and the summary carries it as the reason.

    The failed execution's id (the runner saw only the exception) comes from ML Metadata:
    the run's DataDrift execution.
    """
    failed = outcome.failed_node
    if failed is None or failed.node_id != "DataDrift":
        return
    executions = graph.run_executions(outcome.run_id)
    names = graph.node_names(executions)
    ids = [e.id for e in executions if names.get(e.id) == "DataDrift"]
    if failed.execution_id is not None:
        ids = [failed.execution_id]
    if not ids:
        return
    published = outcome.root / "artifacts" / "DataDrift" / "drift_report" / str(max(ids))
    kept = drift_report.kept_dir(str(published))
    if drift_report.read(kept) is None:
        return
    _read_drift_report(summary, kept)
    summary.drift["blessed"] = False
    summary.drift["retrain"] = False


def render(summary: RunSummary) -> str:
    """The human-readable summary the CLI prints at the end of a run."""
    status = "SUCCEEDED" if summary.succeeded else f"FAILED in {summary.failed_stage}"
    lines = [f"Run {summary.run_id} of pipeline '{summary.pipeline}': {status} ({summary.seconds:.1f} s)"]
    lines.append(f"  {'stage':<28}{'status':<10}{'seconds':>8}")
    for stage in summary.stages:
        lines.append(f"  {stage['node']:<28}{stage['state']:<10}{stage['seconds']:>8.1f}")
    if summary.error:
        lines.append(f"  error: {summary.error}")
    if summary.anomalies is not None:
        flat = [f"{split}: {a}" for split, items in summary.anomalies.items() for a in items]
        verdict = {None: "", True: " (passed)", False: " (FAILED)"}[summary.validation_blessed]
        lines.append(f"  validation: {'no anomalies' if not flat else f'{len(flat)} anomalies'}{verdict}")
        lines += [f"    - {item}" for item in flat[:10]]
    if summary.drift is not None:
        lines += _render_drift(summary.drift)
    if summary.schema_proposal:
        lines.append(f"  schema: none configured; inferred one proposed at {summary.schema_proposal}")
        lines.append(f"    review it, then adopt it: tfxgate schema adopt {Path(summary.schema_proposal).parent}")
    if summary.blessed is not None:
        # Model URIs end in <pipeline_root>/Trainer/model/<execution id>.
        baseline = f"model {os.path.basename(summary.baseline_model)}" if summary.baseline_model else None
        against = (
            f"judged against baseline {baseline}"
            if summary.baseline_model
            else "judged without a baseline (absolute thresholds and gaps only)"
        )
        lines.append(f"  evaluation: model {'BLESSED' if summary.blessed else 'NOT blessed'}, {against}")
        if summary.failing_slices:
            lines.append(f"    failing slices: {'; '.join(summary.failing_slices)}")
        lines += [f"    - {message}" for message in summary.failed_gates[:20]]
        if summary.report:
            lines.append(f"    report: {summary.report}")
    if summary.pushed is not None:
        lines.append(f"  push: {'pushed to ' + str(summary.pushed_to) if summary.pushed else 'not pushed'}")
        lines += _render_governed_push(summary)
    lines.append(f"  metadata: {summary.metadata} ({summary.metadata_kind})")
    return "\n".join(lines)


def _render_governed_push(summary: RunSummary) -> list[str]:
    if not summary.gates and not summary.destinations:
        return []
    verdicts = [f"{name} {'passed' if g['passed'] else 'FAILED'}" for name, g in summary.gates.items()]
    lines = [f"    gates: {', '.join(verdicts) or 'none configured'}"]
    lines += [f"      - {name}: {g['detail']}" for name, g in summary.gates.items() if not g["passed"]]
    options = summary.cli_options or f"-c {summary.config or 'CONFIG'}"
    for d in summary.destinations:
        name, action = d["destination"], d["action"]
        if action == "push":
            lines.append(f"    {name} ({d['approval']}): pushed version {d['version']} -> {d['path']}")
        elif action == "pending":
            lines.append(
                f"    {name} (manual): PENDING APPROVAL; to push this model: "
                f"tfxgate approve {shlex.quote(d['run_id'])} {options} --by NAME --reason TEXT --destination {name}"
            )
        elif action == "blocked":
            lines.append(f"    {name} ({d['approval']}): not pushed, a gate failed")
        else:
            lines.append(
                f"    {name} ({d['approval']}): {action} (version {d.get('version') or '-'}, by {d.get('by')})"
            )
    return lines


def _render_drift(drift: dict) -> list[str]:
    reports = drift.get("reports", [])
    if not reports:
        return ["  drift: not checked (no previous span and no serving source yet)"]
    drifted = any(report["drifted"] for report in reports)
    if not drift.get("blessed", True):
        verdict = "BLOCKED"
    else:
        verdict = "drift found, continuing" if drifted else "passed"
    lines = [f"  drift: {verdict} (policy {drift.get('policy', '?')})"]
    for report in reports:
        drifted = report["drifted"]
        found = "; ".join(f"{feature} ({', '.join(fired)})" for feature, fired in drifted.items())
        what = f"drifted: {found}" if drifted else "no feature drifted"
        lines.append(f"    {report['kind']} vs {report['baseline']}: {report['compared']} features, {what}")
    if drift.get("report"):
        lines.append(f"    report: {drift['report']}")
    return lines
