"""notebooks/interactive_taxi.ipynb runs top to bottom (nbclient, this venv's Python as the
kernel) on a small sample, and is committed without outputs.

The notebook's run (`tfxgate.interactive(root=...)`) pushes: its GovernedPush
executor records the push and the pending approval in the run's own store, as
in a local run, and `history` on that root lists them.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import REPO, TAXI_CONFIG, run_cli
from tests.test_e2e_taxi import executions_per_node, metadata_store

NOTEBOOK = REPO / "notebooks" / "interactive_taxi.ipynb"


def test_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)


@pytest.fixture(scope="module")
def notebook_run(tmp_path_factory) -> tuple[Path, object]:
    """The notebook executed on a 1,000-row sample in its own root; (root, executed notebook)."""
    from nbclient import NotebookClient

    tmp_path = tmp_path_factory.mktemp("notebook")
    monkeypatch = pytest.MonkeyPatch()
    # A kernel spec for exactly this interpreter, so the kernel sees the venv's TFX.
    spec = tmp_path / "jupyter" / "kernels" / "tfxgate-venv"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "tfxgate", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    root = tmp_path / "root"
    monkeypatch.setenv("TFXGATE_ROOT", str(root))
    monkeypatch.setenv("TFXGATE_SAMPLE_ROWS", "1000")
    overrides = [
        "stages.trainer.train_steps=10",
        "stages.trainer.eval_steps=3",
        # Gates a 10-step model passes, so that the run pushes (staging) and waits for approval (production).
        "stages.evaluation.overall.auc.min=0.5",
        "stages.evaluation.thresholds.binary_accuracy.min=0.0",
        "stages.evaluation.max_gap=[]",
    ]
    monkeypatch.setenv("TFXGATE_SET", ";".join(overrides))
    try:
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        client = NotebookClient(
            notebook, kernel_name="tfxgate-venv", timeout=600, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
        )
        client.execute()  # raises CellExecutionError, naming the cell, on any error
    finally:
        monkeypatch.undo()
    return root, notebook


@pytest.mark.e2e
def test_notebook_runs_every_stage_on_a_sample(notebook_run):
    root, notebook = notebook_run
    text = "\n".join(
        output.get("text", "") + json.dumps(output.get("data", {}))
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )
    assert f"root {root}" in text
    assert "section id='drift'" in text and "section id='slice-evaluation'" in text
    assert "binary_accuracy per slice" in text  # SliceEval ran and its chart is shown
    last = notebook.cells[-1].outputs[-1]["text"]
    assert "Ingest" in last and "Trainer" in last and "SliceEval" in last
    assert (root / "sample").is_dir() and (root / "metadata.sqlite").is_file()


def record_shape(store, record, governed) -> dict:
    """What a governance record holds, runner-neutral: filled fields, gate names, events, contexts, and whether it
    was written before its GovernedPush execution was COMPLETE (by the executor itself, not by a runner after)."""
    from tfxgate.mlmd.graph import Graph

    graph = Graph(store)
    [execution] = store.get_executions_by_id([record.id])
    contexts = {
        "pipeline" if c.type == "pipeline" else "run" if c.name in (record.run_id, f"taxi.{record.run_id}") else c.name
        for c in store.get_contexts_by_execution(record.id)
        if c.type in ("pipeline", "pipeline_run", "run")
    }
    events = sorted(
        (event.type, graph.type_of(artifact), event.path.steps[0].key)
        for event in store.get_events_by_execution_ids([record.id])
        for artifact in store.get_artifacts_by_id([event.artifact_id])
    )
    filled = sorted(f.name for f in dataclasses.fields(record) if getattr(record, f.name) not in ("", None))
    return {
        "fields": filled,
        "gates": sorted(record.gate_results),
        "events": events,
        "contexts": sorted(contexts),
        "by the executor": execution.create_time_since_epoch <= governed.last_update_time_since_epoch,
    }


def governance_records(store, run_id: str) -> dict:
    """kind -> the taxi pipeline's record of that kind in run `run_id` (its push and its pending approval)."""
    from tfxgate.mlmd import audit

    records = [r for r in audit.records(store, pipeline="taxi") if r.run_id == run_id]
    assert sorted((r.kind, r.destination) for r in records) == [(audit.PENDING, "production"), (audit.PUSH, "staging")]
    return {r.kind: r for r in records}


@pytest.mark.e2e
def test_notebook_run_records_its_pushes_as_a_local_run_does(notebook_run, taxi_runs):
    from ml_metadata.proto import metadata_store_pb2 as pb

    from tfxgate.mlmd import audit

    root, _ = notebook_run
    assert (root / "serving" / "staging" / "1" / "saved_model.pb").is_file()  # its own push root
    store = metadata_store(root)
    [governed] = store.get_executions_by_type("tfxgate.components.governed_push.component.GovernedPush")
    tfx_run = governed.properties["run_id"].string_value  # TFX's run of the node (a notebook runs each node alone)
    notebook = governance_records(store, tfx_run)
    outputs = {e.artifact_id for e in store.get_events_by_execution_ids([governed.id]) if e.type == e.OUTPUT}
    assert notebook[audit.PUSH].pushed_model_id in outputs  # the component's own PushedModel

    [first, _] = taxi_runs.first.summaries()
    local_store = metadata_store(taxi_runs.root)
    [local_governed] = executions_per_node(local_store, first["run_id"])["GovernedPush"]
    local = governance_records(local_store, first["run_id"])
    for kind in (audit.PUSH, audit.PENDING):
        shape = record_shape(store, notebook[kind], governed)
        assert shape == record_shape(local_store, local[kind], local_governed), kind
        assert shape["by the executor"] and shape["contexts"] == ["pipeline", "run"]
    model, pushed = (pb.Event.INPUT, "Model", "model"), (pb.Event.OUTPUT, "PushedModel", "pushed_model")
    assert record_shape(store, notebook[audit.PUSH], governed)["events"] == [model, pushed]
    assert record_shape(store, notebook[audit.PENDING], governed)["events"] == [model]

    # `history` on the notebook's root lists them, with the approve command's run id.
    shown = run_cli("history", "taxi", "-c", str(TAXI_CONFIG), "--root", str(root), "--json", root=root)
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert [(r["kind"], r["destination"], r["version"], r["run_id"]) for r in rows] == [
        ("push", "staging", "1", tfx_run),
        ("pending", "production", "", tfx_run),
    ]
