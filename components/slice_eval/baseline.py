"""The baseline: the latest model of this pipeline that was blessed *and pushed*, never the candidate.

A resolver strategy, so the baseline is an input of the SliceEval node and part
of its cache key: an unchanged rerun (same candidate, same baseline) is served
from cache, and a new push changes the next run's baseline. "Pushed" is read
from ML Metadata: a PushedModel with `pushed == 1` (tfxgate/artifacts/pushed.py),
traced back through its Pusher execution to the Model that went in
(tfxgate/mlmd/graph.py). A pushed model was blessed, since the Pusher pushes
only blessed models; the blessing it read is checked as well.
"""

from __future__ import annotations

from typing import Dict, List, Optional

from tfx import types
from tfx.dsl.components.common import resolver
from tfx.types import standard_artifacts
from tfx.types.channel import Channel

from tfxgate.artifacts import blessing, pushed
from tfxgate.mlmd.graph import Graph

MODEL = "model"
CANDIDATE = "candidate"


def pushed_model_ids(store) -> set[int]:
    """Ids of the Models that went into a Pusher execution that pushed them, blessed."""
    graph = Graph(store)
    live = [a for a in store.get_artifacts_by_type("PushedModel") if pushed.read(a).pushed]
    found = set()
    for execution in {e.id: e for a in live for e in graph.producers(a.id)}.values():
        verdicts = [blessing.read(b).blessed for _, b in graph.inputs(execution, type_name="ModelBlessing")]
        if all(v is not False for v in verdicts):  # a blessing without `blessed` does not veto
            found |= {m.id for _, m in graph.inputs(execution, type_name="Model")}
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
    return resolver.Resolver(
        strategy_class=LatestPushedModelStrategy,
        **{MODEL: Channel(type=standard_artifacts.Model), CANDIDATE: candidate_model},
    )
