"""What a finished run decided, read back from ML Metadata.

The summary is computed from the store, not from the runner's memory, so it
says what MLMD will say to anyone who asks later: the anomalies found, whether
the model was blessed and against which baseline, and where it was pushed.
The run's outputs are found through tfxgate/mlmd/graph.py and read with the
artifact readers of tfxgate/artifacts/.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import ml_metadata as mlmd

from tfxgate.artifacts import anomalies, blessing, drift_report, evaluation, pushed
from tfxgate.artifacts.kept import kept_dir
from tfxgate.mlmd import audit, plan
from tfxgate.mlmd.graph import Graph, value
from tfxgate.mlmd.settings import MetadataSection, SqliteMetadata
from tfxgate.mlmd.store import EXECUTION_STATES, MetadataError, open_store, sqlite_path
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
    # SUCCEEDED | BLOCKED (a gate or a standing rejection stopped the push) | FAILED | INCOMPLETE (a stage
    # left running in ML Metadata); `judge` sets it from the fields above, and the CLI's exit code follows it.
    status: str = "SUCCEEDED"
    blocked_by: list[str] = field(default_factory=list)  # why BLOCKED, one line each
    model_id: Optional[int] = None  # the run's Model artifact: models are named by artifact id everywhere
    baseline_model_id: Optional[int] = None
    # The node ids the run set out to execute (`tfxgate.mlmd.plan`); None when the run recorded no plan.
    planned_stages: Optional[list[str]] = None
    kept: Optional[str] = None  # where the gate stage that stopped the run kept its output (artifacts/kept.py)
    # How the CLI located this run's pipeline (`-c CONFIG [--root DIR] [--set k=v ...]`, shell-quoted):
    # a printed command repeats them, so it works when pasted.
    cli_options: Optional[str] = None
    # One entry per alert and sink the run sent (tfxgate/alerts/dispatch.py): event, sink, delivered, tries, error.
    alerts: list[dict] = field(default_factory=list)

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
        stages=[
            {"node": n.node_id, "state": n.state, "seconds": round(n.seconds, 1), "execution_id": n.execution_id}
            for n in outcome.nodes
        ],
    )
    if outcome.failed_node:
        summary.failed_stage = outcome.failed_node.node_id
        summary.error = outcome.failed_node.error
    if isinstance(metadata, SqliteMetadata) and not sqlite_path(metadata, root=outcome.root).exists():
        return judge(summary)
    try:
        store = open_store(metadata, root=outcome.root, read_only=True)
    except MetadataError as err:  # e.g. the server went away: the run's own outcome still stands
        summary.error = summary.error or str(err)
        return judge(summary)
    return read_run(summary, store, curated_schema=curated_schema, artifacts_root=outcome.root / "artifacts")


def from_store(
    store: mlmd.MetadataStore, executions, *, pipeline: str, run_id: str, address: str, kind: str
) -> RunSummary:
    """The summary of a run as ML Metadata alone records it (`tfxgate report`, a notebook's run).

    Stages are the run's executions (the governance records it is associated with
    are no stages), in order, each with its state in the store; the status is
    `judge`'s, the same rule the CLI exits by.
    """
    graph = Graph(store)
    stages = [e for e in sorted(executions, key=lambda e: e.id) if graph.execution_type(e) not in audit.KINDS]
    names = graph.node_names(stages)
    summary = RunSummary(
        pipeline=pipeline,
        run_id=run_id,
        succeeded=True,
        seconds=0.0,
        metadata=address,
        metadata_kind=kind,
        stages=[
            {
                "node": names.get(e.id, graph.execution_type(e) or "?"),
                "state": "resolved" if graph.execution_type(e).endswith("Resolver") else "unknown",
                "seconds": max(e.last_update_time_since_epoch - e.create_time_since_epoch, 0) / 1000,
                "execution_id": e.id,
            }
            for e in stages
        ],
    )
    return read_run(summary, store, curated_schema=True)


def read_run(
    summary: RunSummary, store: mlmd.MetadataStore, *, curated_schema: bool, artifacts_root: Optional[Path] = None
) -> RunSummary:
    """Fills `summary` (its stages named, with execution ids) from the store and judges it.

    `artifacts_root` is the pipeline root where a gate stage that stopped the run kept its
    output; without it, it is found from the run's recorded artifacts.
    """
    _stage_states(summary, store)
    summary.planned_stages = plan.planned(store, summary.run_id)
    failed = next((s for s in summary.stages if s["state"] in ("failed", "canceled")), None)
    if summary.failed_stage is None and failed is not None:
        summary.failed_stage = failed["node"]
    graph = Graph(store)
    ids = [s["execution_id"] for s in summary.stages if s["execution_id"] is not None]
    outputs = graph.outputs_by_type(ids)
    _read_stopped_gate(summary, graph, artifacts_root=artifacts_root)
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
        summary.model_id = model.id
    for artifact in outputs.get("ModelBlessing", []):
        found = blessing.read(artifact)
        summary.blessed = bool(found.blessed)
        summary.baseline_model = found.baseline_model
        summary.baseline_model_id = _model_id(store, found.baseline_model)
    for artifact in evaluation.evaluation_outputs(outputs):
        _read_slice_report(summary, artifact.uri)
    for artifact in outputs.get("PushedModel", []):
        push = pushed.read(artifact)
        summary.pushed = push.pushed
        summary.pushed_to = push.destination if push.pushed else None
        _read_governed_push(summary, store, push)
    return judge(summary)


def judge(summary: RunSummary) -> RunSummary:
    """Sets `status` and `blocked_by` from what the summary holds; returns it.

    The one status rule, for the CLI's exit code, `summary.json` and the run report:
    FAILED when a stage failed or was canceled other than by its gate stopping the run;
    INCOMPLETE when a stage is left RUNNING/NEW in ML Metadata, or a stage of the run's
    plan never ran (its process was killed between stages); else BLOCKED when a gate or
    a standing rejection stopped the push (`blocked_by` says which); else SUCCEEDED.
    """
    states = {stage["state"] for stage in summary.stages}
    gate = _stopped_by_gate(summary)
    summary.blocked_by = [gate] if gate else _blockers(summary)
    failed = summary.failed_stage or states & {"failed", "canceled"}
    if failed and not gate:
        summary.status = "FAILED"
    elif states & {"running", "new"} or (not failed and never_ran(summary)):
        summary.status = "INCOMPLETE"
    else:
        summary.status = "BLOCKED" if summary.blocked_by else "SUCCEEDED"
    summary.succeeded = summary.status == "SUCCEEDED"
    return summary


def never_ran(summary: RunSummary) -> list[str]:
    """The stages of the run's plan with no execution in the run."""
    ran = {stage["node"] for stage in summary.stages}
    return [node for node in summary.planned_stages or [] if node not in ran]


# The exceptions by which a stage stops the run as a gate (components/drift/executor.py,
# components/validate/anomalies.py): the runner's error starts with the exception's name.
GATE_STOPS = {"DriftBlocked": "drift", "AnomaliesFailed": "validation"}
# The node ids of those stages (tfxgate/pipelines/stages.py), whose kept output shows the stop.
DRIFT_STAGE, VALIDATE_STAGE = "DataDrift", "Validate"


def _stopped_by_gate(summary: RunSummary) -> Optional[str]:
    """`gate: why` when the failed stage failed because its gate stopped the run, else None.

    The runner's error names the gate's exception; without it (a run read back from
    ML Metadata alone) the output the gate stage kept says so (`_read_stopped_gate`).
    """
    if not summary.failed_stage:
        return None
    if summary.error:
        name, _, message = summary.error.partition(":")
        gate = GATE_STOPS.get(name.rsplit(".", 1)[-1].strip())
        if gate:
            return f"{gate}: {message.strip().splitlines()[0]}"
    if summary.failed_stage == DRIFT_STAGE and (summary.drift or {}).get("blessed") is False:
        drifted = [
            f"{feature} ({', '.join(fired)})"
            for r in summary.drift["reports"]
            for feature, fired in r["drifted"].items()
        ]
        return f"drift: beyond thresholds in {'; '.join(drifted) or 'the drift report'}"
    if summary.failed_stage == VALIDATE_STAGE and summary.validation_blessed is False:
        failing = [
            line for lines in (summary.anomalies or {}).values() for line in lines if line.endswith("(policy fail)")
        ]
        return f"validation: {len(failing)} anomal{'y' if len(failing) == 1 else 'ies'} with policy fail"
    return None


def _blockers(summary: RunSummary) -> list[str]:
    """Why nothing was pushed nor left pending: the gates that failed, or a standing rejection."""
    if summary.pushed or any(d["action"] in ("pending", "push") for d in summary.destinations):
        return []
    if summary.drift is not None and summary.drift.get("blessed") is False:
        return ["drift: blocked (see the drift report)"]
    if summary.pushed is None:
        return []
    found = [f"{name}: {g['detail']}" for name, g in summary.gates.items() if not g["passed"]]
    if summary.validation_blessed is False and not any(f.startswith("validation:") for f in found):
        found.append("validation: FAILED")
    if summary.blessed is False and not any(f.startswith("evaluation:") for f in found):
        found.append("evaluation: model NOT blessed")
    found += [f"{d['destination']}: {d['detail']}" for d in summary.destinations if d["action"] == "rejected"]
    return found or ["push: nothing pushed"]


def _stage_states(summary: RunSummary, store: mlmd.MetadataStore) -> None:
    """Each stage's state as ML Metadata has it (a stage a killed process left RUNNING reads `running`)."""
    ids = [s["execution_id"] for s in summary.stages if s["execution_id"] is not None]
    states = {e.id: EXECUTION_STATES.get(e.last_known_state) for e in store.get_executions_by_id(ids)} if ids else {}
    for stage in summary.stages:
        recorded = states.get(stage["execution_id"])
        if recorded and stage["state"] != "resolved":
            stage["state"] = recorded


def _model_id(store: mlmd.MetadataStore, uri: Optional[str]) -> Optional[int]:
    """The Model artifact at `uri` (a blessing names its baseline by URI)."""
    if not uri:
        return None
    models = [a for a in store.get_artifacts_by_uri(uri) if Graph(store).type_of(a) == "Model"]
    return models[0].id if models else None


def _read_governed_push(summary: RunSummary, store: mlmd.MetadataStore, push: pushed.Push) -> None:
    """Gate results and per-destination decisions from GovernedPush, with any human decision on its model.

    Decisions bind to the model, not the run: a push or a standing rejection of the same model
    (artifact id, or content fingerprint) at a destination, by any run, settles that destination.
    """
    if push.decisions is None:  # the stock Pusher
        return
    summary.gates = push.gates
    summary.destinations = push.decisions
    found = audit.records(store, pipeline=summary.pipeline)
    pendings = [r for r in found if r.kind == audit.PENDING and r.model_id == push.model_id]
    fingerprints = {r.model_fingerprint for r in pendings if r.model_fingerprint}
    later = [r for r in found if r.model_id == push.model_id or r.model_fingerprint in fingerprints]
    for decision in summary.destinations:
        if decision["action"] != "pending":
            continue
        mine = [r for r in later if r.destination == decision["destination"]]
        pending = next((r for r in pendings if r.destination == decision["destination"]), None)
        decision["run_id"] = pending.run_id if pending else summary.run_id
        pushes = [r for r in mine if r.kind == audit.PUSH and r.state != "failed"]
        verdicts = [r for r in mine if r.kind in (audit.REJECTION, audit.REOPEN)]
        if pushes:
            decision.update(action="pushed after approval", version=pushes[-1].version, by=pushes[-1].by)
        elif verdicts and verdicts[-1].kind == audit.REJECTION:
            rejection = verdicts[-1]
            decision.update(
                action="rejected",
                by=rejection.by,
                detail=f"model {push.model_id} was rejected by {rejection.by} at {rejection.at} "
                f"({rejection.reason!r}, run {rejection.run_id}); `tfxgate reopen` lifts it",
            )


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
    _read_anomaly_summary(summary, found, splits=json.loads(value(artifact, "split_names") or "[]"))
    summary.validation_blessed = blessing.read(artifact).blessed is True


def _read_anomaly_summary(summary: RunSummary, found: list[dict], *, splits: list[str]) -> None:
    summary.anomalies = {split: [] for split in splits}
    for item in found:
        line = f"{item['feature']}: {item['kind']}: {item['description']} (policy {item['policy']})"
        summary.anomalies.setdefault(item["split"], []).append(line)


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


def _read_stopped_gate(summary: RunSummary, graph: Graph, *, artifacts_root: Optional[Path]) -> None:
    """What DataDrift or Validate kept when it stopped the run (TFX discarded its outputs; see
    tfxgate/artifacts/kept.py): the drift report, or the anomaly summary with each policy.

    The failed execution's id (the runner saw only the exception) comes from ML Metadata:
    the run's execution of that node.
    """
    if summary.failed_stage not in (DRIFT_STAGE, VALIDATE_STAGE):
        return
    executions = graph.run_executions(summary.run_id)
    names = graph.node_names(executions)
    mine = [e for e in executions if names.get(e.id) == summary.failed_stage]
    if not mine:
        return
    execution = max(mine, key=lambda e: e.id)
    root = artifacts_root or _pipeline_root(graph, execution)
    if root is None:
        return
    if summary.failed_stage == DRIFT_STAGE:
        kept = kept_dir(str(root / DRIFT_STAGE / "drift_report" / str(execution.id)))
        if drift_report.read(kept) is not None:
            _read_drift_report(summary, kept)
            summary.drift.update(blessed=False, retrain=False)
            summary.kept = kept
        return
    kept = kept_dir(str(root / VALIDATE_STAGE / "anomalies" / str(execution.id)))
    found = anomalies.kept_summary(kept)
    if found is not None:
        _read_anomaly_summary(summary, found, splits=[])
        summary.validation_blessed = False
        summary.kept = kept


def _pipeline_root(graph: Graph, execution) -> Optional[Path]:
    """The folder TFX writes outputs under (`<root>/<node>/<key>/<id>`), from the examples the stage read."""
    found = graph.inputs(execution, type_name="Examples")
    return Path(found[0][1].uri).parents[2] if found else None


def render(summary: RunSummary) -> str:
    """The human-readable summary the CLI prints at the end of a run."""
    status = status_line(summary)
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
        # Named by Model artifact id, as `history`, `lineage` and the report name it (not the URI's folder).
        baseline = f"model {summary.baseline_model_id}" if summary.baseline_model_id else summary.baseline_model
        against = (
            f"judged against baseline {baseline}"
            if summary.baseline_model
            else "judged without a baseline (absolute thresholds and gaps only)"
        )
        model = f"model {summary.model_id}" if summary.model_id else "model"
        lines.append(f"  evaluation: {model} {'BLESSED' if summary.blessed else 'NOT blessed'}, {against}")
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
    for d in summary.destinations:
        name, action = d["destination"], d["action"]
        if action == "push":
            lines.append(f"    {name} ({d['approval']}): pushed version {d['version']} -> {d['path']}")
        elif action == "pending":
            lines.append(f"    {name} (manual): PENDING APPROVAL; to push this model: {approve_command(summary, d)}")
        elif action == "blocked":
            lines.append(f"    {name} ({d['approval']}): not pushed, a gate failed")
        elif action == "rejected":
            lines.append(f"    {name} ({d['approval']}): not pushed: {d['detail']}")
        else:
            lines.append(
                f"    {name} ({d['approval']}): {action} (version {d.get('version') or '-'}, by {d.get('by')})"
            )
    return lines


def approve_command(summary: RunSummary, decision: dict) -> str:
    """The command that approves a pending `decision` (one of `summary.destinations`), ready to paste."""
    options = summary.cli_options or f"-c {summary.config or 'CONFIG'}"
    run_id = decision.get("run_id") or summary.run_id
    return (
        f"tfxgate approve {shlex.quote(run_id)} {options} --by NAME --reason TEXT "
        f"--destination {decision['destination']}"
    )


def status_line(summary: RunSummary) -> str:
    """The run's status in a few words, with why (the first line of `render`)."""
    if summary.status == "FAILED":
        return f"FAILED in {summary.failed_stage}" if summary.failed_stage else "FAILED"
    if summary.status == "INCOMPLETE":
        running = [s["node"] for s in summary.stages if s["state"] in ("running", "new")]
        if running:
            return f"INCOMPLETE ({', '.join(running)} left running in ML Metadata)"
        return f"INCOMPLETE (stopped between stages: {', '.join(never_ran(summary))} never ran)"
    if summary.status == "BLOCKED":
        return f"BLOCKED, nothing pushed ({'; '.join(summary.blocked_by)})"
    return "SUCCEEDED"


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
