"""tfxgate.interactive's pure parts: sampling the input and the config it runs.

The stage-by-stage run itself is exercised by tests/test_notebook.py.
"""

from __future__ import annotations

import pytest

from tests.conftest import REPO, TAXI_CONFIG
from tfxgate.pipelines.config.root import load_config
from tfxgate.pipelines.interactive import sample_input

# A config whose schema asks for the columns write_csv writes (config loading checks the header).
GOOD = REPO / "tests" / "testdata" / "good_pipeline" / "pipeline.yaml"


def write_csv(path, rows: int):
    path.write_text("id,amount,color,label\n" + "".join(f"{i},{i}.5,x{i},{i % 2}\n" for i in range(rows)))
    return path


def test_sample_keeps_the_header_and_every_kth_row(tmp_path):
    data = write_csv(tmp_path / "in.csv", 100)
    config = load_config(GOOD, overrides=[f"data.path={data}", f"pipeline.root={tmp_path / 'root'}"])
    sample = sample_input(config, rows=10)
    assert sample == tmp_path / "root" / "sample" / "in.csv"
    lines = sample.read_text().splitlines()
    assert lines[0] == "id,amount,color,label"
    assert lines[1:] == [f"{i},{i}.5,x{i},{i % 2}" for i in range(0, 100, 10)]


def test_sample_of_parquet_takes_every_kth_row(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "in.parquet"
    rows = range(50)
    table = {"id": list(rows), "amount": [1.0] * 50, "color": ["red"] * 50, "label": [i % 2 for i in rows]}
    pq.write_table(pa.table(table), data)
    overrides = [f"data.path={data}", "data.format=parquet", f"pipeline.root={tmp_path / 'root'}"]
    sample = sample_input(load_config(GOOD, overrides=overrides), rows=5)
    assert pq.read_table(sample).column("id").to_pylist() == [0, 10, 20, 30, 40]


def test_sample_needs_one_input_file(tmp_path):
    for name in ("x.csv", "y.csv"):
        write_csv(tmp_path / name, 3)
    config = load_config(GOOD, overrides=[f"data.path={tmp_path}/*.csv", f"pipeline.root={tmp_path}"])
    with pytest.raises(ValueError, match=r"sample_rows needs data.path to be one file, got .*\*\.csv"):
        sample_input(config, rows=2)


def test_interactive_applies_overrides_root_and_sample(tmp_path, monkeypatch):
    """The config an interactive run uses: --set overrides, the root, the sampled file (no TFX run)."""
    from tfxgate.pipelines import interactive as module

    monkeypatch.setattr(module, "_context", lambda config: None)
    monkeypatch.setattr(module, "_nodes", lambda config: {})
    data = write_csv(tmp_path / "in.csv", 40)
    run = module.interactive(
        GOOD, overrides=[f"data.path={data}", "stages.trainer.train_steps=7"], sample_rows=4, root=tmp_path / "r"
    )
    assert run.config.pipeline.root == (tmp_path / "r").resolve()
    assert run.config.stages.push.root == (tmp_path / "r" / "serving").resolve()  # isolated like --root
    assert run.config.stages.trainer.train_steps == 7
    assert run.config.data.path == str((tmp_path / "r" / "sample" / "in.csv").resolve())
    # Its own push root and store: a notebook run never pushes into the real serving folder.
    assert run.config.stages.push.destination_dir("staging") == (tmp_path / "r" / "serving" / "staging").resolve()
    assert run.config.governed().missing_store == (tmp_path / "r" / "metadata.sqlite").resolve()


def test_unknown_node_and_missing_upstream_are_named(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from tfxgate.pipelines import interactive as module

    ingest = SimpleNamespace(id="Ingest", upstream_nodes=[], outputs={"examples": None})
    trainer = SimpleNamespace(id="Trainer", upstream_nodes=[ingest], outputs={"model": None})
    monkeypatch.setattr(module, "_context", lambda config: None)
    monkeypatch.setattr(module, "_nodes", lambda config: {"Ingest": ingest, "Trainer": trainer})
    run = module.interactive(TAXI_CONFIG, root=tmp_path)
    with pytest.raises(KeyError, match=r"no node 'Evaluator' in pipeline 'taxi' \(nodes: Ingest, Trainer\)"):
        run.run("Evaluator")
    with pytest.raises(RuntimeError, match="run Ingest before Trainer"):
        run.run("Trainer")
    assert run.node_with_output("model") == "Trainer"
    with pytest.raises(KeyError, match="no node of pipeline 'taxi' has an output 'blessing'"):
        run.node_with_output("blessing")
