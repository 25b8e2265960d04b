"""The baseline: the latest model of this pipeline that was blessed *and pushed*, never the candidate.

A resolver strategy, so the baseline is an input of the SliceEval node and part
of its cache key: an unchanged rerun (same candidate, same baseline) is served
from cache, and a new push changes the next run's baseline. "Pushed" is read
from ML Metadata: a PushedModel with `pushed == 1`, traced back through its
Pusher execution to the Model that went in (a pushed model was blessed, since
the Pusher pushes only blessed models; the blessing is checked as well).
"""

from __future__ import annotations

from typing import Dict, List, Optional

from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx import v1 as tfx
from tfx.dsl.components.common import resolver

MODEL = "model"
CANDIDATE = "candidate"


def pushed_model_ids(store) -> set[int]:
    """Ids of the Models that went into a Pusher execution that pushed them, blessed."""
    types_by_id = {t.id: t.name for t in store.get_artifact_types()}
    pushed = [
        a for a in store.get_artifacts_by_type("PushedModel") if a.custom_properties.get("pushed", None) is not None
    ]
    pushed = [a for a in pushed if a.custom_properties["pushed"].int_value == 1]
    if not pushed:
        return set()
    events = store.get_events_by_artifact_ids([a.id for a in pushed])
    executions = sorted({e.execution_id for e in events if e.type == metadata_store_pb2.Event.OUTPUT})
    inputs = [e for e in store.get_events_by_execution_ids(executions) if e.type == metadata_store_pb2.Event.INPUT]
    by_execution: dict[int, list] = {}
    for artifact in store.get_artifacts_by_id(sorted({e.artifact_id for e in inputs})):
        for event in inputs:
            if event.artifact_id == artifact.id:
                by_execution.setdefault(event.execution_id, []).append(artifact)
    found = set()
    for artifacts in by_execution.values():
        blessings = [a for a in artifacts if types_by_id[a.type_id] == "ModelBlessing"]
        if all(b.custom_properties["blessed"].int_value == 1 for b in blessings if "blessed" in b.custom_properties):
            found |= {a.id for a in artifacts if types_by_id[a.type_id] == "Model"}
    return found


class LatestPushedModelStrategy(resolver.ResolverStrategy):
    """Resolves the newest pushed Model other than `candidate` (or nothing on a first run).

    Inputs: `model` (this pipeline's Models) and `candidate` (this run's Trainer
    output, passed through). Output `model`: zero or one Model.
    """

    def resolve_artifacts(
        self, store, input_dict: Dict[str, List[types.Artifact]]
    ) -> Optional[Dict[str, List[types.Artifact]]]:
        candidate = list(input_dict.get(CANDIDATE, []))
        excluded = {a.id for a in candidate}
        pushed = pushed_model_ids(store)
        models = [m for m in input_dict.get(MODEL, []) if m.id in pushed and m.id not in excluded]
        latest = max(models, key=lambda m: m.id, default=None)
        return {MODEL: [latest] if latest else [], CANDIDATE: candidate}


def latest_pushed_model_resolver(candidate_model):
    """A Resolver node running LatestPushedModelStrategy over this pipeline's Models, passing `candidate_model`."""
    return tfx.dsl.Resolver(
        strategy_class=LatestPushedModelStrategy,
        **{MODEL: tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model), CANDIDATE: candidate_model},
    )
