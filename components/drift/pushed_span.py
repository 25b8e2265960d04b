"""The span the model in production was trained on, found by walking ML Metadata.

    PushedModel (pushed=1, newest) <- OUTPUT of the push execution
      <- INPUT Model <- OUTPUT of the Trainer execution <- INPUT Examples
      (<- Transform: the examples it read, when the Trainer read transformed ones)

The push execution is whichever recorded the PushedModel as its output: the
stock Pusher, tfxgate's GovernedPush, or a `tfxgate.Push` recorded outside a
run. A cached Trainer execution re-publishes the same Model with the same
inputs, so any of the Model's producing executions names the same Examples.
The walk uses tfxgate/mlmd/graph.py and the push record reader
(tfxgate/artifacts/pushed.py); no TFX import here: `component.py` wraps this
in a resolver strategy.
"""

from __future__ import annotations

from typing import Optional

from tfxgate.artifacts import pushed
from tfxgate.mlmd.graph import Graph


def pushed_model_ids(store) -> list[int]:
    """The Models behind PushedModels whose `pushed` custom property is 1, newest push first."""
    graph = Graph(store)
    if "PushedModel" not in graph.artifact_types.values():
        return []  # nothing was ever pushed from this store
    live = [a for a in store.get_artifacts_by_type("PushedModel") if pushed.read(a).pushed]
    models = []
    for artifact in sorted(live, key=lambda a: a.id, reverse=True):
        models += sorted(_inputs_of_producer(graph, artifact.id, type_name="Model"), reverse=True)
    return models


def latest_pushed_model_id(store) -> Optional[int]:
    """The Model behind the newest PushedModel with `pushed`=1 (any pipeline in the store)."""
    return next(iter(pushed_model_ids(store)), None)


def trained_on_examples_id(store, model_id: int) -> Optional[int]:
    """The Examples artifact the Trainer execution that produced `model_id` read (the raw examples
    behind transformed ones: drift compares raw spans)."""
    graph = Graph(store)
    producers = graph.producers(model_id)
    examples = {a.id for _, a in graph.raw_examples(producers[0])} if producers else set()
    return max(examples) if examples else None


def pushed_model_examples_id(store, *, among: Optional[set[int]] = None) -> Optional[int]:
    """The Examples the newest pushed model was trained on, or None before the first push.

    Args:
      among: only models trained on one of these Examples count (this pipeline's,
        when several pipelines share one ML Metadata store).
    """
    for model in pushed_model_ids(store):
        examples = trained_on_examples_id(store, model)
        if examples is not None and (among is None or examples in among):
            return examples
    return None


def _inputs_of_producer(graph: Graph, artifact_id: int, *, type_name: str) -> list[int]:
    """Ids of the `type_name` inputs of the execution that output `artifact_id` (its first producer)."""
    producers = graph.producers(artifact_id)
    return sorted({a.id for _, a in graph.inputs(producers[0], type_name=type_name)}) if producers else []
