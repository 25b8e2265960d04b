"""notebooks/interactive_taxi.ipynb runs top to bottom (nbclient, this venv's Python as the
kernel) on a small sample, and is committed without outputs."""

from __future__ import annotations

import json
import sys

import nbformat
import pytest

from tests.conftest import REPO

NOTEBOOK = REPO / "notebooks" / "interactive_taxi.ipynb"


def test_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)


@pytest.mark.e2e
def test_notebook_runs_every_stage_on_a_sample(tmp_path, monkeypatch):
    from nbclient import NotebookClient

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
        f"stages.push.root={root}/serving",
    ]
    monkeypatch.setenv("TFXGATE_SET", ";".join(overrides))

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, kernel_name="tfxgate-venv", timeout=600, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error

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
