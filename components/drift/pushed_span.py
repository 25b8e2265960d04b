"""The span the model in production was trained on, found by walking ML Metadata.

    PushedModel (pushed=1, newest) <- OUTPUT of the push execution
      <- INPUT Model <- OUTPUT of the Trainer execution <- INPUT Examples

The push execution is whichever recorded the PushedModel as its output: the
stock Pusher, tfxgate's GovernedPush, or a `tfxgate.Push` recorded outside a
run. A cached Trainer execution re-publishes the same Model with the same
inputs, so any of the Model's producing executions names the same Examples.
Only ML Metadata's protos are imported here; `component.py` wraps this in a
resolver strategy.
"""

from __future__ import annotations

from typing import Optional

from ml_metadata.proto import metadata_store_pb2

_OUTPUTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
_INPUTS = (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT)


def pushed_model_ids(store) -> list[int]:
    """The Models behind PushedModels whose `pushed` custom property is 1, newest push first."""
    if "PushedModel" not in {t.name for t in store.get_artifact_types()}:
        return []  # nothing was ever pushed from this store
    pushed = store.get_artifacts_by_type("PushedModel")
    live = [a for a in pushed if "pushed" in a.custom_properties and a.custom_properties["pushed"].int_value == 1]
    models = []
    for artifact in sorted(live, key=lambda a: a.id, reverse=True):
        models += sorted(_inputs_of_producer(store, artifact.id, type_name="Model"), reverse=True)
    return models


def latest_pushed_model_id(store) -> Optional[int]:
    """The Model behind the newest PushedModel with `pushed`=1 (any pipeline in the store)."""
    return next(iter(pushed_model_ids(store)), None)


def trained_on_examples_id(store, model_id: int) -> Optional[int]:
    """The Examples artifact the Trainer execution that produced `model_id` read."""
    examples = _inputs_of_producer(store, model_id, type_name="Examples")
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


def _inputs_of_producer(store, artifact_id: int, *, type_name: str) -> list[int]:
    """Ids of the `type_name` inputs of the earliest execution that output `artifact_id`."""
    producers = sorted(e.execution_id for e in store.get_events_by_artifact_ids([artifact_id]) if e.type in _OUTPUTS)
    if not producers:
        return []
    inputs = [e.artifact_id for e in store.get_events_by_execution_ids([producers[0]]) if e.type in _INPUTS]
    if not inputs:
        return []
    type_ids = {t.id for t in store.get_artifact_types() if t.name == type_name}
    return [a.id for a in store.get_artifacts_by_id(sorted(set(inputs))) if a.type_id in type_ids]
