"""The lineage walker: from a Model back through ML Metadata to its data, evidence and decisions.

`collect(store, model_artifact_id=...)` walks the MLMD graph from a Model
artifact: back to the execution that trained it and the Examples and Schema it
read (through Transform, whose graph and statistics it records, to the
examples Transform read; and the Tuner run behind its best hyperparameters,
when tuned); from the Examples to the statistics, anomalies and drift report computed
on them; forward from the Model to its evaluation, blessing, pushes and the
governance decisions (approval, rejection, push, rollback: the `tfxgate.*`
executions tfxgate/mlmd/audit.py records) and the monitoring of its serving
logs (`tfxgate.Monitor`, tfxgate/mlmd/monitoring.py). Artifacts are found by type and by
event/context relations (tfxgate/mlmd/graph.py), never by node id, so the walk
survives stages being swapped (StatisticsGen -> Validate, Pusher -> GovernedPush).
When several candidates qualify (a config change re-ran a stage), the one from
the model's own pipeline run wins, then the newest.

The result is a tree of dataclasses (`Evidence`) that `json.dumps` can write
(`to_json`); tfxgate/reporting/lineage_tree.py prints it for `tfxgate lineage` and
tfxgate/reporting/model_card.py renders it. The payloads are read by
tfxgate/artifacts/ (one reader per artifact kind).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

from tfxgate.artifacts import anomalies as anomaly_files
from tfxgate.artifacts import blessing as blessings
from tfxgate.artifacts import drift_report, examples, pushed, schema, statistics
from tfxgate.artifacts import transform as transform_files
from tfxgate.artifacts.anomalies import Anomalies
from tfxgate.artifacts.drift_report import Drift
from tfxgate.artifacts.evaluation import EVALUATION_TYPES, Evaluation, evaluation_of
from tfxgate.artifacts.examples import Examples
from tfxgate.artifacts.hyperparameters import Hyperparameters
from tfxgate.artifacts.hyperparameters import read as read_hyperparameters
from tfxgate.artifacts.pushed import Push
from tfxgate.artifacts.schema import Schema
from tfxgate.artifacts.statistics import Statistics
from tfxgate.artifacts.transform import Transform
from tfxgate.mlmd import audit
from tfxgate.mlmd import monitoring as monitor_records
from tfxgate.mlmd.graph import Graph, iso_time, value

__all__ = ["Evidence", "EvidenceError", "TrainerRun", "collect", "transform_evidence"]


class EvidenceError(LookupError):
    """The artifact to start from is not a Model in this store."""


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
class Evidence:
    """Everything ML Metadata knows about how one model came to be, and who let it through."""

    pipeline: Optional[str]
    run_id: Optional[str]
    model_id: int
    model_uri: str
    trainer: Optional[TrainerRun] = None
    examples: Optional[Examples] = None
    schema: Optional[Schema] = None
    hyperparameters: Optional[Hyperparameters] = None  # the Tuner's best, when the Trainer was tuned
    transform: Optional[Transform] = None  # stages.transform: the graph the model was trained (and serves) with
    statistics: Optional[Statistics] = None
    anomalies: Optional[Anomalies] = None
    drift: Optional[Drift] = None
    evaluation: Optional[Evaluation] = None
    pushes: list[Push] = field(default_factory=list)
    governance: list[audit.Record] = field(default_factory=list)
    monitoring: list[monitor_records.MonitorRecord] = field(default_factory=list)  # `tfxgate monitor` of this model

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        # Decisions in words, with their gate results parsed, as the tree and the card show them.
        data["governance"] = [
            {**item, "kind": record.decision, "gates": record.gate_results}
            for item, record in zip(data["governance"], self.governance, strict=True)
        ]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)

    @property
    def approval(self) -> Optional[audit.Record]:
        """The latest approval or rejection of this model, if a person decided."""
        decisions = [g for g in self.governance if g.kind in (audit.APPROVAL, audit.REJECTION)]
        return decisions[-1] if decisions else None

    def with_decision(self, record: audit.Record) -> Evidence:
        """A copy with one more governance record: the governed push writes the card *before*
        its own Push execution is in MLMD, so it adds the decision it is about to record."""
        return dataclasses.replace(self, governance=[*self.governance, record])


def collect(store: mlmd.MetadataStore, *, model_artifact_id: int) -> Evidence:
    """Walks ML Metadata from a Model artifact to its evidence.

    Args:
      store: an open MLMD store (read-only is enough).
      model_artifact_id: the id of the Model artifact (e.g. a Trainer output).

    Returns:
      Evidence; parts that the store does not hold (no drift stage, no push yet)
      are None or empty, never guessed.

    Raises:
      EvidenceError: no artifact of that id, or it is not a Model.
    """
    graph = Graph(store)
    model = graph.artifact(model_artifact_id)
    if model is None or graph.type_of(model) != "Model":
        found = f"a {graph.type_of(model)}" if model is not None else "no artifact"
        raise EvidenceError(f"artifact {model_artifact_id} is not a Model ({found} has that id)")
    producers = graph.producers(model.id)
    # The run that trained it first, then runs that re-published it from cache.
    runs = [graph.run_ids(producers[:1]), graph.run_ids(producers)]
    evidence = Evidence(pipeline=None, run_id=None, model_id=model.id, model_uri=model.uri)
    if producers:
        trainer = producers[0]
        evidence.trainer = _trainer_run(graph, trainer)
        evidence.pipeline = evidence.trainer.pipeline
        evidence.run_id = evidence.trainer.run_id
        # Behind transformed examples, the examples Transform read: the data evidence is about them.
        examples = _prefer(graph, [a for _, a in graph.raw_examples(trainer)], runs)
        schema_artifact = _prefer(graph, [a for _, a in graph.inputs(trainer, type_name="Schema")], runs)
        graph_artifact = _prefer(graph, [a for _, a in graph.inputs(trainer, type_name="TransformGraph")], runs)
        if graph_artifact is not None:
            evidence.transform = transform_evidence(graph, graph_artifact, runs=runs)
        if examples is not None:
            _data_evidence(graph, evidence, examples, runs)
        if schema_artifact is not None:
            evidence.schema = schema.read(schema_artifact)
        tuned = [a for _, a in graph.inputs(trainer, type_name="HyperParameters")]
        if tuned:
            evidence.hyperparameters = _hyperparameters(graph, tuned[0], evidence.run_id)
    _model_evidence(graph, evidence, model, runs)
    return evidence


def _trainer_run(graph: Graph, execution) -> TrainerRun:
    runs = graph.contexts_of(execution.id, type_name="pipeline_run")
    pipelines = graph.contexts_of(execution.id, type_name="pipeline")
    arguments = {}
    for name in ("train_args", "eval_args"):
        text = value(execution, name)
        if text:
            arguments[name] = json.loads(text)
    return TrainerRun(
        execution_id=execution.id,
        component=graph.execution_type(execution).rsplit(".", 1)[-1],
        state=metadata_store_pb2.Execution.State.Name(execution.last_known_state),
        started=iso_time(execution.create_time_since_epoch),
        finished=iso_time(execution.last_update_time_since_epoch),
        run_id=runs[0].name if runs else None,
        pipeline=pipelines[0].name if pipelines else None,
        arguments=arguments,
    )


TUNER = "tfx.components.tuner.component.Tuner"


def _hyperparameters(graph: Graph, artifact, run_id: Optional[str]) -> Hyperparameters:
    """The Trainer's HyperParameters input, traced to the Tuner run that found it (maybe an earlier run's)."""
    tuners = [e for e in graph.producers(artifact.id) if graph.execution_type(e) == TUNER]
    results = graph.outputs(tuners[:1], type_name="TunerResults")
    found = read_hyperparameters(artifact, results=results[-1] if results else None)
    if tuners:
        runs = graph.contexts_of(tuners[0].id, type_name="pipeline_run")
        found.tuner_execution_id = tuners[0].id
        found.tuner_run_id = runs[0].name if runs else None
        found.reused = found.tuner_run_id != run_id
    return found


def transform_evidence(graph: Graph, graph_artifact, *, runs: list[set[int]]) -> Transform:
    """TransformGraph -> the Transform execution (its module file) and its pre/post-transform statistics."""
    producer = graph.producers(graph_artifact.id)[:1]
    module = (value(producer[0], "module_file") or value(producer[0], "module_path")) if producer else None
    found = transform_files.read_graph(
        graph_artifact, execution_id=producer[0].id if producer else None, module_file=module
    )
    for side in ("pre_transform", "post_transform"):
        key = f"{side}_stats"
        stats = [a for link, a in graph.linked(e.id for e in producer) if link.is_output and link.key == key]
        chosen = _prefer(graph, stats, runs)
        if chosen is not None:
            setattr(found, side, transform_files.read_statistics(chosen))
    return found


def _data_evidence(graph: Graph, evidence: Evidence, examples_artifact, runs: list[set[int]]) -> None:
    """Examples -> quarantine (its sibling), statistics, anomalies, drift report and blessing."""
    ingest = graph.producers(examples_artifact.id)
    quarantine = _prefer(graph, graph.outputs(ingest[:1], type_name="tfxgate.Quarantine"), runs)
    evidence.examples = examples.read(examples_artifact, quarantine_uri=quarantine.uri if quarantine else None)
    # The drift stage of a *later* span reads these examples as `baseline_examples`: not ours.
    readers = graph.consumers(examples_artifact.id, keys={"examples"})
    # Transform reads them too; its statistics and anomalies are of its own (evidence.transform).
    readers = [e for e in readers if not graph.outputs([e], type_name="TransformGraph")]
    stats = _prefer(graph, graph.outputs(readers, type_name="ExampleStatistics"), runs)
    if stats is not None:
        evidence.statistics = statistics.read(stats)
        # Validate writes anomalies beside the statistics; stock ExampleValidator reads them.
        validators = readers + graph.consumers(stats.id, keys={"statistics"})
        found = _prefer(graph, graph.outputs(validators, type_name="ExampleAnomalies"), runs)
        if found is not None:
            evidence.anomalies = anomaly_files.read(found)
    report = _prefer(graph, graph.outputs(readers, type_name="tfxgate.DriftReport"), runs)
    if report is not None:
        blessing = _prefer(graph, graph.outputs(graph.producers(report.id), type_name="tfxgate.DriftBlessing"), runs)
        verdict = blessings.read(blessing) if blessing is not None else None
        document = drift_report.read(report.uri)
        evidence.drift = Drift(
            report_id=report.id,
            report_uri=report.uri,
            blessing_id=blessing.id if blessing is not None else None,
            blessed=verdict.blessed if verdict else None,
            retrain=verdict.retrain if verdict else None,
            policy=(document or {}).get("policy"),
            comparisons=drift_report.comparisons(document),
        )


def _model_evidence(graph: Graph, evidence: Evidence, model, runs: list[set[int]]) -> None:
    """Model -> evaluation + blessing, pushed models, governance decisions."""
    evaluators = graph.consumers(model.id, keys={"model"})
    judged = [
        b
        for b in graph.outputs(evaluators, type_name="ModelBlessing")
        if blessings.read(b).current_model_id in (None, model.id)
    ]
    blessing = _prefer(graph, judged, runs)
    if blessing is not None:
        producer = graph.producers(blessing.id)[:1]
        reports = [a for name in EVALUATION_TYPES for a in graph.outputs(producer, type_name=name)]
        report = _prefer(graph, reports, runs)
        settings = value(producer[0], "settings") if producer else None
        evidence.evaluation = evaluation_of(blessing, report=report, settings=settings)
    evidence.pushes = [pushed.read(p) for p in graph.outputs(graph.consumers(model.id), type_name="PushedModel")]
    versions = {p.version for p in evidence.pushes if p.version}
    records = audit.records(graph.store, pipeline=evidence.pipeline)
    # Decisions that took this model as input, and rollbacks that made one of its versions current again.
    mine = [
        r
        for r in records
        if r.model_id == model.id or (r.kind == audit.ROLLBACK and r.version in versions and evidence.pipeline)
    ]
    evidence.governance = sorted(mine, key=lambda r: (r.at or "", r.id))
    evidence.monitoring = monitor_records.records(graph.store, model_id=model.id)


def _prefer(graph: Graph, artifacts: list, runs: list[set[int]]) -> Optional[Any]:
    """The artifact written in the earliest-listed of `runs` (then the newest); None for none.

    `runs` is [the model's own run, runs that re-published it from cache]: when a
    config change re-ran a stage on the same examples, the model's own run's
    artifact is the evidence it was judged on.
    """
    if not artifacts:
        return None

    def rank(artifact) -> tuple:
        made_in = graph.run_ids(graph.producers(artifact.id))
        return (*(bool(made_in & run) for run in runs), artifact.id)

    return max(artifacts, key=rank)
