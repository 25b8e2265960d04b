"""A small ML Metadata store, recorded with the real MLMD API, shaped like a governed pipeline run.

Two runs of pipeline `taxi` on a SQLite file:
- run-1: ImportSchemaGen -> Ingest -> Validate (statistics + anomalies) -> DataDrift -> Trainer
  -> SliceEval -> GovernedPush (pending); then, outside the run, the governance records of
  docs/CONTRACTS.md: PendingApproval, Approval (by alice), Push (version "7", PushedModel out), and
  a later Rollback to "7".
- run-2: new examples and a new model; its DataDrift reads run-1's examples as
  `baseline_examples` and its SliceEval reads run-1's model as `baseline_model`, and it is
  pushed by the stock-style Pusher as version "8". A walk from run-1's model must not
  pick up run-2's drift report or blessing.

Execution type names are the new node names (Validate, GovernedPush), which the lineage
walk must not depend on. Artifact payloads are real files (schema.pbtxt, FeatureStats.pb,
SchemaDiff.pb, drift_report.json, report.json) in the layouts the components write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2 as pb
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

GOVERNANCE_PROPERTIES = ("pipeline", "run_id", "destination", "version", "by", "reason", "at", "gates")
SLICE_NAME = "payment_type=<b>Cash</b> | x"  # text that must be escaped in HTML and Markdown tables


@dataclass
class GovernedStore:
    store: mlmd.MetadataStore
    path: Path
    model_id: int  # run-1's model (pushed as version 7)
    second_model_id: int  # run-2's model (pushed as version 8)
    examples_id: int


class _Recorder:
    def __init__(self, store: mlmd.MetadataStore):
        self.store = store
        self.types: dict[str, int] = {}

    def artifact(self, type_name: str, uri: Path, properties: dict | None = None, **custom) -> pb.Artifact:
        if type_name not in self.types:
            kinds = {"span": pb.INT, "version": pb.INT, "split_names": pb.STRING} if type_name == "Examples" else {}
            self.types[type_name] = self.store.put_artifact_type(pb.ArtifactType(name=type_name, properties=kinds))
        artifact = pb.Artifact(type_id=self.types[type_name], uri=str(uri), state=pb.Artifact.LIVE)
        uri.mkdir(parents=True, exist_ok=True)
        _set(artifact.properties, properties or {})
        _set(artifact.custom_properties, custom)
        return artifact

    def context(self, type_name: str, name: str) -> pb.Context:
        type_id = self.store.put_context_type(pb.ContextType(name=type_name))
        found = self.store.get_context_by_type_and_name(type_name, name)
        if found is not None:
            return found
        [context_id] = self.store.put_contexts([pb.Context(type_id=type_id, name=name)])
        return self.store.get_contexts_by_id([context_id])[0]

    def execute(
        self, type_name: str, *, contexts, inputs=None, outputs=None, properties=None, custom=None, cached=False
    ) -> int:
        """Records one execution with its events, attributions and associations; returns its id."""
        typed = type_name.startswith("tfxgate.") and type_name.count(".") == 1  # governance: string properties
        kinds = {name: pb.STRING for name in GOVERNANCE_PROPERTIES} if typed else {}
        type_id = self.store.put_execution_type(pb.ExecutionType(name=type_name, properties=kinds))
        state = pb.Execution.CACHED if cached else pb.Execution.COMPLETE
        execution = pb.Execution(type_id=type_id, last_known_state=state)
        _set(execution.properties, properties or {})
        _set(execution.custom_properties, custom or {})
        pairs = []
        for kind, artifacts in ((pb.Event.INPUT, inputs or {}), (pb.Event.OUTPUT, outputs or {})):
            for key, artifact in artifacts.items():
                event = pb.Event(type=kind)
                event.path.steps.add().key = key
                event.path.steps.add().index = 0
                pairs.append((artifact, event))
        execution_id, artifact_ids, _ = self.store.put_execution(execution, pairs, contexts)
        for (artifact, _), artifact_id in zip(pairs, artifact_ids, strict=True):
            artifact.id = artifact_id
        return execution_id


def _set(target, values: dict) -> None:
    for name, value in values.items():
        if isinstance(value, int):
            target[name].int_value = value
        else:
            target[name].string_value = value if isinstance(value, str) else json.dumps(value)


def _statistics_files(uri: Path, rows: dict[str, int]) -> None:
    for split, count in rows.items():
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        dataset = stats.datasets.add(num_examples=count)
        for name in ("fare", "payment_type"):
            dataset.features.add().path.step.append(name)
        (uri / f"Split-{split}").mkdir(parents=True)
        (uri / f"Split-{split}" / "FeatureStats.pb").write_bytes(stats.SerializeToString())


def _anomalies_files(uri: Path, *, anomaly: bool) -> None:
    for split in ("train", "eval"):
        proto = anomalies_pb2.Anomalies()
        if anomaly and split == "eval":
            proto.anomaly_info["company"].short_description = "Unexpected string values"
        (uri / f"Split-{split}").mkdir(parents=True)
        (uri / f"Split-{split}" / "SchemaDiff.pb").write_bytes(proto.SerializeToString())


def _slice_report(uri: Path, *, baseline: str | None) -> None:
    def row(name, status, accuracy, count, failed=()):
        metrics = {
            "binary_accuracy": {"value": accuracy, "baseline": None, "delta": None, "failed_gates": list(failed)},
            "example_count": {"value": count, "baseline": None, "delta": None, "failed_gates": []},
            "auc": {"value": 0.93, "baseline": 0.92, "delta": 0.01, "failed_gates": []},
        }
        return {"slice": name, "slicing": [], "status": status, "metrics": metrics}

    report = {
        "blessed": True,
        "headline": "BLESSED",
        "baseline_model": baseline,
        "failures": [],
        "failing_slices": [],
        "too_small_to_judge": ["payment_type=Dispute"],
        "undefined": [],
        "metrics": ["binary_accuracy", "example_count", "auc"],
        "slices": [
            row("Overall", "ok", 0.89, 1000.0),
            row(SLICE_NAME, "ok", 0.62, 400.0),
            row("payment_type=Dispute", "too small to judge", 0.1, 3.0),
        ],
    }
    (uri / "report.json").write_text(json.dumps(report))


SETTINGS = {
    "min_examples": 100,
    "thresholds": {"binary_accuracy": {"min": 0.5, "max": None, "max_regression": 0.05}},
    "overall": {"auc": {"min": 0.85, "max": None, "max_regression": 0.02}},
    "max_gap": [{"slice": ["payment_type"], "metric": "binary_accuracy", "max": 0.4}],
}
GATES = {
    "ingestion": {"passed": True, "detail": "0 bad rows"},
    "validation": {"passed": True, "detail": "no fail-policy anomaly"},
    "drift": {"passed": True, "detail": "blessed"},
    "evaluation": {"passed": True, "detail": "BLESSED"},
}


def build(tmp: Path) -> GovernedStore:
    """Records the two runs described in the module docstring under `tmp` (metadata.sqlite + artifacts)."""
    tmp.mkdir(parents=True, exist_ok=True)
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(tmp / "metadata.sqlite")
    store = mlmd.MetadataStore(config)
    rec = _Recorder(store)
    art = tmp / "artifacts"
    pipeline = rec.context("pipeline", "taxi")
    run1, run2 = rec.context("pipeline_run", "run-1"), rec.context("pipeline_run", "run-2")

    schema = rec.artifact("Schema", art / "schema")
    (art / "schema" / "schema.pbtxt").write_text(
        'feature { name: "fare" type: FLOAT }\nfeature { name: "company" type: BYTES }\n'
    )
    rec.execute("ImportSchemaGen", contexts=[pipeline, run1], outputs={"schema": schema})
    examples = rec.artifact(
        "Examples",
        art / "examples1",
        {"span": 3, "version": 2, "split_names": '["train", "eval"]'},
        rows_per_split={"train": 200, "eval": 100},
        rows_read=303,
        bad_rows=3,
        input_files_sha256={"/data/taxi/span-3.csv": "ab" * 32},
    )
    quarantine = rec.artifact("tfxgate.Quarantine", art / "quarantine1")
    rec.execute("Ingest", contexts=[pipeline, run1], outputs={"examples": examples, "quarantine": quarantine})
    statistics = rec.artifact("ExampleStatistics", art / "stats1")
    _statistics_files(art / "stats1", {"train": 200, "eval": 100})
    anomalies = rec.artifact("ExampleAnomalies", art / "anomalies1", blessed=1)
    _anomalies_files(art / "anomalies1", anomaly=True)
    rec.execute(
        "Validate",
        contexts=[pipeline, run1],
        inputs={"examples": examples, "schema": schema},
        outputs={"statistics": statistics, "anomalies": anomalies},
    )
    report = rec.artifact("tfxgate.DriftReport", art / "drift1")
    drift = {
        "kind": "drift",
        "baseline": "span 2",
        "current": "span 3",
        "drifted_features": ["fare"],
        "features": [
            {
                "feature": "fare",
                "kind": "numeric",
                "values": {"psi": 0.3, "ks": 0.05},
                "thresholds": {"psi": 0.2, "ks": 0.1},
                "fired": ["psi"],
                "detail": {},
            },
            {
                "feature": "company",
                "kind": "categorical",
                "values": {"linf": 0.01},
                "thresholds": {"linf": 0.1},
                "fired": [],
                "detail": {},
            },
        ],
    }
    (art / "drift1" / "drift_report.json").write_text(json.dumps({"policy": "warn", "reports": [drift]}))
    drift_blessing = rec.artifact("tfxgate.DriftBlessing", art / "driftb1", blessed=1, retrain=0)
    rec.execute(
        "DataDrift",
        contexts=[pipeline, run1],
        inputs={"examples": examples, "schema": schema},
        outputs={"drift_report": report, "drift_blessing": drift_blessing},
    )
    model = rec.artifact("Model", art / "model1")
    rec.execute(
        "Trainer",
        contexts=[pipeline, run1],
        inputs={"examples": examples, "schema": schema},
        outputs={"model": model},
        custom={"train_args": '{"num_steps": 60}'},
    )
    blessing = rec.artifact(
        "ModelBlessing",
        art / "blessing1",
        blessed=1,
        current_model_id=model.id,
        blessing_message="BLESSED, judged without a baseline",
    )
    evaluation = rec.artifact("ModelEvaluation", art / "eval1")
    _slice_report(art / "eval1", baseline=None)
    rec.execute(
        "SliceEval",
        contexts=[pipeline, run1],
        inputs={"examples": examples, "model": model},
        outputs={"blessing": blessing, "evaluation": evaluation},
        custom={"settings": json.dumps(SETTINGS)},
    )

    def governance(kind, *, inputs=None, outputs=None, contexts=(pipeline, run1), **values):
        props = {"pipeline": "taxi", "run_id": "run-1", "destination": "production", **values}
        return rec.execute(f"tfxgate.{kind}", contexts=list(contexts), inputs=inputs, outputs=outputs, properties=props)

    governance("PendingApproval", inputs={"model": model}, at="2026-11-25T10:00:00+00:00", gates=GATES)
    governance("Approval", inputs={"model": model}, by="alice", reason="Q3 <review> ok", at="2026-11-25T11:00:00+00:00")
    pushed = rec.artifact(
        "PushedModel",
        art / "pushed1",
        pushed=1,
        pushed_version="7",
        pushed_destination="/serving/taxi/7",
        destination_name="production",
        model_id=model.id,
    )
    governance(
        "Push",
        inputs={"model": model},
        outputs={"pushed_model": pushed},
        contexts=(pipeline,),
        by="alice",
        version="7",
        at="2026-11-25T11:00:05+00:00",
        gates=GATES,
    )

    # run-2: reads run-1's examples and model only as baselines.
    examples2 = rec.artifact("Examples", art / "examples2", {"span": 4, "split_names": '["train", "eval"]'})
    rec.execute("Ingest", contexts=[pipeline, run2], outputs={"examples": examples2})
    report2 = rec.artifact("tfxgate.DriftReport", art / "drift2")
    rec.execute(
        "DataDrift",
        contexts=[pipeline, run2],
        inputs={"examples": examples2, "baseline_examples": examples},
        outputs={
            "drift_report": report2,
            "drift_blessing": rec.artifact("tfxgate.DriftBlessing", art / "driftb2", blessed=0),
        },
    )
    model2 = rec.artifact("Model", art / "model2")
    rec.execute(
        "Trainer",
        contexts=[pipeline, run2],
        inputs={"examples": examples2, "schema": schema},
        outputs={"model": model2},
    )
    blessing2 = rec.artifact(
        "ModelBlessing", art / "blessing2", blessed=1, current_model_id=model2.id, baseline_model=model.uri
    )
    evaluation2 = rec.artifact("ModelEvaluation", art / "eval2")
    _slice_report(art / "eval2", baseline=model.uri)
    rec.execute(
        "SliceEval",
        contexts=[pipeline, run2],
        inputs={"examples": examples2, "model": model2, "baseline_model": model},
        outputs={"blessing": blessing2, "evaluation": evaluation2},
        custom={"settings": json.dumps(SETTINGS)},
    )
    pushed2 = rec.artifact(
        "PushedModel", art / "pushed2", pushed=1, pushed_version="8", pushed_destination="/serving/taxi/8"
    )
    rec.execute(
        "Pusher",
        contexts=[pipeline, run2],
        inputs={"model": model2, "model_blessing": blessing2},
        outputs={"pushed_model": pushed2},
    )
    governance(
        "Rollback", contexts=(pipeline,), by="bob", reason="8 misbehaves", version="7", at="2026-11-26T09:00:00+00:00"
    )
    return GovernedStore(store, tmp / "metadata.sqlite", model.id, model2.id, examples.id)


def add_rerun_with_new_drift(governed: GovernedStore, tmp: Path) -> None:
    """run-3: a drift config change re-ran DataDrift on run-1's examples (not blessed this time),
    and the Trainer was served from cache, re-publishing run-1's model."""
    rec = _Recorder(governed.store)
    rec.types = {t.name: t.id for t in governed.store.get_artifact_types()}
    contexts = [rec.context("pipeline", "taxi"), rec.context("pipeline_run", "run-3")]
    [examples, model] = governed.store.get_artifacts_by_id([governed.examples_id, governed.model_id])
    outputs = {
        "drift_report": rec.artifact("tfxgate.DriftReport", tmp / "drift3"),
        "drift_blessing": rec.artifact("tfxgate.DriftBlessing", tmp / "driftb3", blessed=0),
    }
    rec.execute("DataDrift", contexts=contexts, inputs={"examples": examples}, outputs=outputs)
    rec.execute("Trainer", contexts=contexts, inputs={"examples": examples}, outputs={"model": model}, cached=True)
