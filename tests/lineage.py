"""Reading one pipeline run back from ML Metadata, for the MySQL and concurrency tests."""

from __future__ import annotations

from dataclasses import dataclass

from ml_metadata.proto import metadata_store_pb2

OUTPUT_EVENTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
INPUT_EVENTS = (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT)


@dataclass
class RunRecord:
    """Executions of one pipeline run by node, and the artifacts they read and wrote."""

    executions: dict[str, metadata_store_pb2.Execution]
    outputs: dict[str, set[int]]  # node -> artifact ids it produced (or, cached, re-published)
    inputs: dict[str, set[int]]  # node -> artifact ids it read


def run_record(store, run_id: str) -> RunRecord:
    [run] = [c for c in store.get_contexts_by_type("pipeline_run") if c.name == run_id]
    executions = {e.id: e for e in store.get_executions_by_context(run.id)}
    node_of = {}
    for node in store.get_contexts_by_type("node"):
        for execution in store.get_executions_by_context(node.id):
            if execution.id in executions:
                node_of[execution.id] = node.name.split(".", 1)[1]
    outputs: dict[str, set[int]] = {name: set() for name in node_of.values()}
    inputs: dict[str, set[int]] = {name: set() for name in node_of.values()}
    for event in store.get_events_by_execution_ids(list(executions)):
        node = node_of[event.execution_id]
        if event.type in OUTPUT_EVENTS:
            outputs[node].add(event.artifact_id)
        elif event.type in INPUT_EVENTS:
            inputs[node].add(event.artifact_id)
    return RunRecord({node_of[i]: e for i, e in executions.items()}, outputs, inputs)


def artifact_types(store, ids) -> list[str]:
    names = {t.id: t.name for t in store.get_artifact_types()}
    return sorted(names[a.type_id] for a in store.get_artifacts_by_id(sorted(ids)))
