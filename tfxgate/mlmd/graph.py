"""Read-only queries over the ML Metadata graph: who produced, who consumed, which run, what a run wrote.

Every event and context walk of tfxgate goes through `Graph`: the lineage walk
(tfxgate/lineage/evidence.py), the run summary and report, the audit records
(tfxgate/mlmd/audit.py) and the components' resolvers. Artifacts are found by
type and by event/context relations, never by node id, because node ids
change as tfxgate components replace stock ones (StatisticsGen +
ExampleValidator -> Validate, Pusher -> GovernedPush). `value()` reads a
property as a plain Python value. Everything here is plain MLMD API; no TFX import.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Iterable, Optional

import ml_metadata as mlmd
from google.protobuf import json_format
from ml_metadata.proto import metadata_store_pb2

Event = metadata_store_pb2.Event
OUTPUTS = (Event.OUTPUT, Event.DECLARED_OUTPUT)
INPUTS = (Event.INPUT, Event.DECLARED_INPUT)


@dataclass(frozen=True)
class Link:
    """One event: an execution read (`INPUT`) or wrote (`OUTPUT`) an artifact under `key`."""

    execution_id: int
    artifact_id: int
    key: str  # the component's input/output name, e.g. "examples", "baseline_model"
    is_output: bool
    is_input: bool


class Graph:
    """A read-only view of one store, with type names resolved once."""

    def __init__(self, store: mlmd.MetadataStore):
        self.store = store
        self.artifact_types = {t.id: t.name for t in store.get_artifact_types()}
        self.execution_types = {t.id: t.name for t in store.get_execution_types()}

    def artifact(self, artifact_id: int) -> Optional[metadata_store_pb2.Artifact]:
        found = self.store.get_artifacts_by_id([artifact_id])
        return found[0] if found else None

    def type_of(self, artifact: metadata_store_pb2.Artifact) -> str:
        return self.artifact_types.get(artifact.type_id, "")

    def execution_type(self, execution: metadata_store_pb2.Execution) -> str:
        return self.execution_types.get(execution.type_id, "")

    def links_of_artifacts(self, artifact_ids: Iterable[int]) -> list[Link]:
        return [_link(e) for e in self.store.get_events_by_artifact_ids(sorted(set(artifact_ids)))]

    def links_of_executions(self, execution_ids: Iterable[int]) -> list[Link]:
        return [_link(e) for e in self.store.get_events_by_execution_ids(sorted(set(execution_ids)))]

    def linked(self, execution_ids: Iterable[int]) -> list[tuple[Link, metadata_store_pb2.Artifact]]:
        """(event, artifact) pairs of the executions, by execution then artifact id."""
        links = self.links_of_executions(execution_ids)
        by_id = {a.id: a for a in self.store.get_artifacts_by_id(sorted({link.artifact_id for link in links}))}
        pairs = [(link, by_id[link.artifact_id]) for link in links if link.artifact_id in by_id]
        return sorted(pairs, key=lambda pair: (pair[0].execution_id, pair[0].artifact_id))

    def outputs_by_type(self, execution_ids: Iterable[int]) -> dict[str, list[metadata_store_pb2.Artifact]]:
        """Output artifacts of the executions (cached ones included), by type name, oldest first."""
        ids = {link.artifact_id for link in self.links_of_executions(execution_ids) if link.is_output}
        by_type: dict[str, list] = {}
        for artifact in self.store.get_artifacts_by_id(sorted(ids)):
            by_type.setdefault(self.type_of(artifact), []).append(artifact)
        return by_type

    def producers(self, artifact_id: int) -> list[metadata_store_pb2.Execution]:
        """Executions that output the artifact: the one that made it, then cached reruns that re-published it."""
        ids = {link.execution_id for link in self.links_of_artifacts([artifact_id]) if link.is_output}
        executions = self.store.get_executions_by_id(sorted(ids))
        # COMPLETE (the real run) before CACHED, then oldest first.
        complete = metadata_store_pb2.Execution.COMPLETE
        return sorted(executions, key=lambda e: (e.last_known_state != complete, e.id))

    def consumers(self, artifact_id: int, *, keys: Optional[set[str]] = None) -> list[metadata_store_pb2.Execution]:
        """Executions that read the artifact (only under these input `keys`, when given)."""
        ids = {
            link.execution_id
            for link in self.links_of_artifacts([artifact_id])
            if link.is_input and (keys is None or link.key in keys)
        }
        return self.store.get_executions_by_id(sorted(ids))

    def outputs(self, executions: Iterable[metadata_store_pb2.Execution], *, type_name: str) -> list:
        """Artifacts of `type_name` the executions wrote, oldest first, each once."""
        ids = {link.artifact_id for link in self.links_of_executions(e.id for e in executions) if link.is_output}
        found = self.store.get_artifacts_by_id(sorted(ids))
        return sorted((a for a in found if self.type_of(a) == type_name), key=lambda a: a.id)

    def inputs(self, execution: metadata_store_pb2.Execution, *, type_name: str) -> list[tuple[str, Any]]:
        """(input key, artifact) pairs of `type_name` the execution read."""
        links = [link for link in self.links_of_executions([execution.id]) if link.is_input]
        by_id = {a.id: a for a in self.store.get_artifacts_by_id(sorted({link.artifact_id for link in links}))}
        return [
            (link.key, by_id[link.artifact_id])
            for link in links
            if link.artifact_id in by_id and self.type_of(by_id[link.artifact_id]) == type_name
        ]

    def raw_examples(self, execution: metadata_store_pb2.Execution) -> list[tuple[str, Any]]:
        """(input key, Examples) the execution read, seen through Transform: transformed examples
        (a producer that also wrote a TransformGraph) stand for the examples that Transform read."""
        found = []
        for key, artifact in self.inputs(execution, type_name="Examples"):
            producer = self.producers(artifact.id)[:1]
            if producer and self.outputs(producer, type_name="TransformGraph"):
                found += [(key, a) for k, a in self.inputs(producer[0], type_name="Examples") if k == "examples"]
            else:
                found.append((key, artifact))
        return found

    def contexts_of(self, execution_id: int, *, type_name: str) -> list[metadata_store_pb2.Context]:
        try:
            found = self.store.get_contexts_by_execution(execution_id)
        except mlmd.errors.NotFoundError:  # MLMD's answer for an execution in no context
            return []
        return [c for c in found if c.type == type_name]

    def run_ids(self, executions: Iterable[metadata_store_pb2.Execution]) -> set[int]:
        """Context ids of the pipeline runs these executions belong to."""
        return {c.id for e in executions for c in self.contexts_of(e.id, type_name="pipeline_run")}

    def run_executions(self, run_id: str) -> list[metadata_store_pb2.Execution]:
        """The executions of the pipeline run named `run_id` (a `pipeline_run` context); [] when unknown."""
        context = self.store.get_context_by_type_and_name("pipeline_run", run_id)
        return self.store.get_executions_by_context(context.id) if context is not None else []

    def pipeline_runs(self, pipeline: str) -> list[str]:
        """Names of the pipeline's runs (`pipeline_run` contexts with one of its executions), oldest first."""
        context = self.store.get_context_by_type_and_name("pipeline", pipeline)
        if context is None:
            return []
        mine = {e.id for e in self.store.get_executions_by_context(context.id)}
        runs = sorted(self.store.get_contexts_by_type("pipeline_run"), key=lambda c: (c.create_time_since_epoch, c.id))
        return [r.name for r in runs if any(e.id in mine for e in self.store.get_executions_by_context(r.id))]

    def node_names(self, executions: Iterable[metadata_store_pb2.Execution]) -> dict[int, str]:
        """Execution id -> node id: from the `node` contexts, or (InteractiveContext) `component_id`."""
        executions = list(executions)
        wanted = {e.id for e in executions}
        names = {e.id: value(e, "component_id") for e in executions if "component_id" in e.properties}
        for node in self.store.get_contexts_by_type("node"):
            for execution in self.store.get_executions_by_context(node.id):
                if execution.id in wanted:
                    names[execution.id] = node.name.split(".", 1)[-1]
        return names

    def reads_and_writes(self, executions: Iterable[metadata_store_pb2.Execution]) -> list[dict]:
        """Per execution: its node and the artifacts (type, id, uri, key: the input/output name) it read and wrote."""
        executions = list(executions)
        node_of = self.node_names(executions)
        found = {
            e.id: {
                "node": node_of.get(e.id) or self.execution_type(e) or str(e.id),
                "execution_id": e.id,
                "reads": [],
                "writes": [],
            }
            for e in executions
        }
        for link, artifact in self.linked(found):
            entry = {
                "type": self.artifact_types.get(artifact.type_id, "?"),
                "id": artifact.id,
                "uri": artifact.uri,
                "key": link.key,
            }
            if link.is_input:
                found[link.execution_id]["reads"].append(entry)
            elif link.is_output:
                found[link.execution_id]["writes"].append(entry)
        return list(found.values())


def _link(event: metadata_store_pb2.Event) -> Link:
    key = next((step.key for step in event.path.steps if step.HasField("key")), "")
    return Link(event.execution_id, event.artifact_id, key, event.type in OUTPUTS, event.type in INPUTS)


_JSON_SINGLE_VALUE = "__value__"


def value(node, name: str, default: Any = None) -> Any:
    """A property or custom property of an artifact/execution/context as a plain Python value."""
    for properties in (node.properties, node.custom_properties):
        if name in properties:
            item = properties[name]
            kind = item.WhichOneof("value")
            if kind == "struct_value":
                found = json_format.MessageToDict(item.struct_value)
                # TFX keeps a JSON scalar or list as {"__value__": ...} (Artifact.set_json_value_custom_property);
                # on Kubeflow every metadata value of an input artifact arrives so.
                return found[_JSON_SINGLE_VALUE] if set(found) == {_JSON_SINGLE_VALUE} else found
            if kind == "proto_value":
                return default
            return getattr(item, kind) if kind else default
    return default


def iso_time(milliseconds: int) -> Optional[str]:
    """MLMD's milliseconds since the epoch as ISO-8601 UTC; None when unset."""
    if not milliseconds:
        return None
    moment = datetime.datetime.fromtimestamp(milliseconds / 1000, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="seconds")
