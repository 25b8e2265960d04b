"""The evidence behind one model, collected from ML Metadata: "on what evidence was it pushed?".

`collect(store, model_artifact_id=...)` walks the MLMD graph from a Model
artifact: back to the execution that trained it and the Examples and Schema it
read; from the Examples to the statistics, anomalies and drift report computed
on them; forward from the Model to its evaluation, blessing, pushes and the
governance decisions (approval, rejection, push, rollback: the `tfxgate.*`
executions tfxgate/mlmd/audit.py records, see docs/CONTRACTS.md). Artifacts are found
by type and by event/context relations, never by node id, so the walk
survives stages being swapped (StatisticsGen -> Validate, Pusher -> GovernedPush).
When several candidates qualify (a config change re-ran a stage), the one from
the model's own pipeline run wins, then the newest.

The result is a tree of dataclasses (`Evidence`) that `json.dumps` can write
(`to_json`); `tfxgate lineage` prints it and tfxgate/reporting/model_card.py renders it.
The file readers live in evidence_files.py, the graph queries in mlmd_graph.py.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

from tfxgate.artifacts import payloads as files
from tfxgate.lineage.records import (
    GOVERNANCE_TYPES,
    Anomalies,
    Drift,
    Evaluation,
    Examples,
    GovernanceRecord,
    Push,
    Schema,
    Statistics,
    TrainerRun,
    anomalies_passed,
    evaluation_of,
    examples_of,
    governance_of,
    push_of,
)
from tfxgate.mlmd.graph import Graph, iso_time, value

__all__ = ["Evidence", "EvidenceError", "GovernanceRecord", "collect"]


class EvidenceError(LookupError):
    """The artifact to start from is not a Model in this store."""


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
    statistics: Optional[Statistics] = None
    anomalies: Optional[Anomalies] = None
    drift: Optional[Drift] = None
    evaluation: Optional[Evaluation] = None
    pushes: list[Push] = field(default_factory=list)
    governance: list[GovernanceRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)

    @property
    def approval(self) -> Optional[GovernanceRecord]:
        """The latest approval or rejection of this model, if a person decided."""
        decisions = [g for g in self.governance if g.kind in ("approval", "rejection")]
        return decisions[-1] if decisions else None

    def with_decision(self, record: GovernanceRecord) -> Evidence:
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
        examples = _prefer(graph, [a for _, a in graph.inputs(trainer, type_name="Examples")], runs)
        schema = _prefer(graph, [a for _, a in graph.inputs(trainer, type_name="Schema")], runs)
        if examples is not None:
            _data_evidence(graph, evidence, examples, runs)
        if schema is not None:
            evidence.schema = Schema(artifact_id=schema.id, uri=schema.uri, features=files.schema_features(schema.uri))
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


def _data_evidence(graph: Graph, evidence: Evidence, examples, runs: list[set[int]]) -> None:
    """Examples -> quarantine (its sibling), statistics, anomalies, drift report and blessing."""
    ingest = graph.producers(examples.id)
    quarantine = _prefer(graph, graph.outputs(ingest[:1], type_name="tfxgate.Quarantine"), runs)
    evidence.examples = examples_of(examples, quarantine_uri=quarantine.uri if quarantine is not None else None)
    # The drift stage of a *later* span reads these examples as `baseline_examples`: not ours.
    readers = graph.consumers(examples.id, keys={"examples"})
    statistics = _prefer(graph, graph.outputs(readers, type_name="ExampleStatistics"), runs)
    if statistics is not None:
        evidence.statistics = Statistics(
            artifact_id=statistics.id, uri=statistics.uri, splits=files.split_statistics(statistics.uri)
        )
        # Validate writes anomalies beside the statistics; stock ExampleValidator reads them.
        validators = readers + graph.consumers(statistics.id, keys={"statistics"})
        anomalies = _prefer(graph, graph.outputs(validators, type_name="ExampleAnomalies"), runs)
        if anomalies is not None:
            found = files.anomalies(anomalies.uri)
            evidence.anomalies = Anomalies(
                artifact_id=anomalies.id,
                uri=anomalies.uri,
                passed=anomalies_passed(value(anomalies, "blessed"), found),
                anomalies=found,
                summary=json.loads(value(anomalies, "anomaly_summary") or "[]"),
            )
    report = _prefer(graph, graph.outputs(readers, type_name="tfxgate.DriftReport"), runs)
    if report is not None:
        blessing = _prefer(graph, graph.outputs(graph.producers(report.id), type_name="tfxgate.DriftBlessing"), runs)
        policy, comparisons = files.drift_comparisons(report.uri)
        evidence.drift = Drift(
            report_id=report.id,
            report_uri=report.uri,
            blessing_id=blessing.id if blessing is not None else None,
            blessed=_flag(blessing, "blessed"),
            retrain=_flag(blessing, "retrain"),
            policy=policy,
            comparisons=comparisons,
        )


def _model_evidence(graph: Graph, evidence: Evidence, model, runs: list[set[int]]) -> None:
    """Model -> evaluation + blessing, pushed models, governance decisions."""
    evaluators = graph.consumers(model.id, keys={"model"})
    blessings = [
        b
        for b in graph.outputs(evaluators, type_name="ModelBlessing")
        if value(b, "current_model_id") in (None, model.id)
    ]
    blessing = _prefer(graph, blessings, runs)
    if blessing is not None:
        producer = graph.producers(blessing.id)[:1]
        report = _prefer(graph, graph.outputs(producer, type_name="tfxgate.SliceEvaluation"), runs)
        settings = value(producer[0], "settings") if producer else None
        evidence.evaluation = evaluation_of(blessing, report=report, settings=settings)
    consumers = graph.consumers(model.id)
    pushed = graph.outputs(consumers, type_name="PushedModel")
    evidence.pushes = [push_of(p) for p in pushed]
    decisions = [e for e in consumers if graph.execution_type(e) in GOVERNANCE_TYPES]
    versions = {p.version for p in evidence.pushes if p.version}
    decisions += _rollbacks_to(graph, evidence.pipeline, versions, seen={e.id for e in decisions})
    records = [governance_of(e, kind=GOVERNANCE_TYPES[graph.execution_type(e)]) for e in decisions]
    evidence.governance = sorted(records, key=lambda r: (r.at or "", r.execution_id))


def _rollbacks_to(graph: Graph, pipeline: Optional[str], versions: set[str], *, seen: set[int]) -> list:
    """Rollbacks of this pipeline that made one of the model's versions current again."""
    if pipeline is None or not versions or "tfxgate.Rollback" not in graph.execution_types.values():
        return []
    found = graph.store.get_executions_by_type("tfxgate.Rollback")
    return [
        e
        for e in found
        if e.id not in seen and value(e, "version") in versions and value(e, "pipeline", pipeline) == pipeline
    ]


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


def _flag(artifact, name: str) -> Optional[bool]:
    got = value(artifact, name) if artifact is not None else None
    return None if got is None else bool(got)
