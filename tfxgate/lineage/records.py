"""The parts of an `Evidence` tree, and how each is read from one MLMD node.

Plain dataclasses (JSON via `dataclasses.asdict`), one per kind of evidence,
plus the functions that fill them from an artifact's or execution's
properties. Property names follow the producing components: Ingest
(components/ingest/executor.py: `rows_per_split`, `rows_read`, `bad_rows`,
`input_files_sha256`), SliceEval (components/slice_eval), the stock
Pusher (`pushed`, `pushed_version`, `pushed_destination`) and the governance
records of docs/CONTRACTS.md (`pipeline`, `run_id`, `destination`, `version`, `by`,
`reason`, `at`, `gates`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from tfxgate.artifacts import payloads as files
from tfxgate.mlmd.graph import value

# Execution type -> the word the lineage and the card use for it.
GOVERNANCE_TYPES = {
    "tfxgate.Push": "push",
    "tfxgate.Approval": "approval",
    "tfxgate.Rejection": "rejection",
    "tfxgate.Rollback": "rollback",
    "tfxgate.PendingApproval": "pending_approval",
}


@dataclass
class TrainerRun:
    execution_id: int
    component: str
    state: str
    started: Optional[str]
    finished: Optional[str]
    run_id: Optional[str]
    pipeline: Optional[str]
    arguments: dict[str, Any] = field(default_factory=dict)  # train_args / eval_args


@dataclass
class Examples:
    artifact_id: int
    uri: str
    span: Optional[int]
    version: Optional[int]
    rows_per_split: dict[str, int]
    rows_read: Optional[int]
    bad_rows: Optional[int]
    input_files: dict[str, str]  # path -> sha256 of the file's bytes
    input_fingerprint: Optional[str]  # TFX's size/mtime fingerprint of the input
    quarantine_uri: Optional[str] = None


@dataclass
class Schema:
    artifact_id: int
    uri: str
    features: Optional[list[dict]]  # [{name, type}]; None when the file is gone

    @property
    def feature_count(self) -> Optional[int]:
        return None if self.features is None else len(self.features)


@dataclass
class Statistics:
    artifact_id: int
    uri: str
    splits: dict[str, dict]  # split -> {examples, features}


@dataclass
class Anomalies:
    artifact_id: int
    uri: str
    passed: bool
    anomalies: list[dict]  # [{split, feature, description}]
    summary: list[dict] = field(default_factory=list)  # Validate's [{feature, kind, policy, description}]


@dataclass
class Drift:
    report_id: int
    report_uri: str
    blessing_id: Optional[int]
    blessed: Optional[bool]
    retrain: Optional[bool]
    policy: Optional[str]
    comparisons: list[dict]  # see evidence_files.drift_comparisons; [] = nothing to compare against


@dataclass
class Evaluation:
    blessing_id: int
    blessed: bool
    message: Optional[str]
    baseline_model: Optional[str]
    report_id: Optional[int] = None
    report_uri: Optional[str] = None
    slices: list[dict] = field(default_factory=list)  # report.json rows, worst first
    failures: list[str] = field(default_factory=list)
    too_small_to_judge: list[str] = field(default_factory=list)
    thresholds: dict[str, dict] = field(default_factory=dict)  # metric -> {min, max, max_regression}, every slice
    overall_thresholds: dict[str, dict] = field(default_factory=dict)  # overall slice only
    max_gap: list[dict] = field(default_factory=list)
    min_examples: Optional[int] = None


@dataclass
class Push:
    artifact_id: int
    pushed: bool
    version: Optional[str]
    destination: Optional[str]  # the version directory
    destination_name: Optional[str]  # e.g. "production" (governed push)
    uri: str


@dataclass
class GovernanceRecord:
    kind: str  # push | approval | rejection | rollback | pending_approval
    execution_id: Optional[int]
    pipeline: Optional[str] = None
    run_id: Optional[str] = None
    destination: Optional[str] = None
    version: Optional[str] = None
    by: Optional[str] = None
    reason: Optional[str] = None
    at: Optional[str] = None
    gates: dict[str, dict] = field(default_factory=dict)  # gate -> {passed, detail}


def examples_of(artifact, *, quarantine_uri: Optional[str]) -> Examples:
    rows = value(artifact, "rows_per_split")
    rows_per_split = json.loads(rows) if rows else {}
    for split in json.loads(value(artifact, "split_names") or "[]"):
        counted = value(artifact, f"rows_{split}")  # the contract's per-split form
        if counted is not None:
            rows_per_split.setdefault(split, counted)
    hashes = value(artifact, "input_files_sha256") or value(artifact, "fingerprints")
    return Examples(
        artifact_id=artifact.id,
        uri=artifact.uri,
        span=value(artifact, "span"),
        version=value(artifact, "version"),
        rows_per_split=rows_per_split,
        rows_read=value(artifact, "rows_read"),
        bad_rows=value(artifact, "bad_rows"),
        input_files=json.loads(hashes) if hashes else {},
        input_fingerprint=value(artifact, "input_fingerprint"),
        quarantine_uri=quarantine_uri,
    )


def anomalies_passed(blessed: Any, found: list[dict]) -> bool:
    """The validation gate as docs/CONTRACTS.md states it.

    Validate writes `blessed` 1/0; stock ExampleValidator writes a struct
    {split: 1/0}; without either the gate passes iff no anomaly is listed.
    """
    if isinstance(blessed, dict):
        return all(int(v) == 1 for v in blessed.values())
    if blessed is not None:
        return int(blessed) == 1
    return not found


def evaluation_of(blessing, *, report, settings: Optional[str]) -> Evaluation:
    evaluation = Evaluation(
        blessing_id=blessing.id,
        blessed=value(blessing, "blessed") == 1,
        message=value(blessing, "blessing_message"),
        baseline_model=value(blessing, "baseline_model") or None,
    )
    if report is not None:
        evaluation.report_id, evaluation.report_uri = report.id, report.uri
        data = files.slice_report(report.uri) or {}
        evaluation.slices = data.get("slices", [])
        evaluation.failures = [f["message"] for f in data.get("failures", [])]
        evaluation.too_small_to_judge = data.get("too_small_to_judge", [])
    if settings:
        stage = json.loads(settings)
        evaluation.thresholds = stage.get("thresholds", {})
        evaluation.overall_thresholds = stage.get("overall", {})
        evaluation.max_gap = stage.get("max_gap", [])
        evaluation.min_examples = stage.get("min_examples")
    return evaluation


def push_of(artifact) -> Push:
    return Push(
        artifact_id=artifact.id,
        pushed=value(artifact, "pushed") == 1,
        version=value(artifact, "pushed_version"),
        destination=value(artifact, "pushed_destination"),
        destination_name=value(artifact, "destination_name"),
        uri=artifact.uri,
    )


def governance_of(execution, *, kind: str) -> GovernanceRecord:
    gates = value(execution, "gates")
    return GovernanceRecord(
        kind=kind,
        execution_id=execution.id,
        **{
            name: value(execution, name)
            for name in ("pipeline", "run_id", "destination", "version", "by", "reason", "at")
        },
        gates=json.loads(gates) if gates else {},
    )
