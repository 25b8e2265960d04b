"""Proof that the compiled Kubeflow pipeline runs: its tasks' containers, executed locally, match a local run.

The compiled spec for the e2e sample config is executed task by task by
tests/kfp_local.py (each container's command and arguments as a subprocess,
with the executor input built from the spec and a local pipeline root). Its
outputs are compared with the session's local run of the same config
(tests/conftest.py): same components, same output artifacts, same splits and
row counts, same schema, both models blessed, both pushed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TAXI_CONFIG, small_run_overrides
from tests.kfp_local import run_spec

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kfp_run(sample_csv, tmp_path_factory):
    from tfxgate.pipelines.config.root import load_config
    from tfxgate.pipelines.kubeflow.compile import compile_kubeflow

    base = tmp_path_factory.mktemp("kfp-local")
    overrides = small_run_overrides(sample_csv, base / "unused-local-root") + [
        f"kubeflow.pipeline_root={base / 'kfp-root'}",
        f"stages.push.root={base / 'kfp-serving'}",
    ]
    compiled = compile_kubeflow(load_config(TAXI_CONFIG, overrides=overrides), base / "pipeline.yaml")
    logs = base / "logs"
    logs.mkdir()
    return run_spec(compiled.output, base / "kfp-root", log_dir=logs), base


def _local_outputs(root: Path) -> dict[str, set[str]]:
    """component -> output keys of the local run (artifacts/<component>/<key>/<execution>/)."""
    artifacts = root / "artifacts"
    return {
        c.name: {k.name for k in c.iterdir() if not k.name.startswith(".")}  # .system: the local launcher's own
        for c in artifacts.iterdir()
        if not c.name.startswith("_")  # _wheels
    }


def _first(path: Path) -> Path:
    """The first run's execution directory under a local artifact folder."""
    return min(path.iterdir(), key=lambda p: int(p.name))


def _record_counts(examples_uri: Path) -> dict[str, int]:
    import tensorflow as tf

    counts = {}
    for split in sorted(examples_uri.glob("Split-*")):
        files = [str(f) for f in split.glob("*.gz")]
        counts[split.name] = sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP"))
    return counts


def test_every_local_component_ran_as_a_task_with_the_same_outputs(kfp_run, taxi_runs):
    run, _ = kfp_run
    local = _local_outputs(taxi_runs.root)
    for component, keys in local.items():
        assert component in run.outputs, f"{component} ran locally but is no task of the compiled spec"
        produced = {key for key, artifacts in run.outputs[component].items() if artifacts}
        assert produced == keys, component
        for key in keys:
            # Outputs the executor leaves empty (e.g. Trainer.model_run) have no directory on either side.
            if any(_first(taxi_runs.root / "artifacts" / component / key).iterdir()):
                assert Path(run.artifact(component, key)["uri"]).exists(), f"{component}.{key} wrote nothing"


def test_same_splits_row_counts_and_schema(kfp_run, taxi_runs, sample_csv):
    run, _ = kfp_run
    local = taxi_runs.root / "artifacts"
    examples = run.artifact("Ingest", "examples")
    assert json.loads(examples["metadata"]["split_names"]) == ["train", "eval"]
    kfp_counts = _record_counts(Path(examples["uri"]))
    assert kfp_counts == _record_counts(_first(local / "Ingest" / "examples"))
    assert sum(kfp_counts.values()) == len(sample_csv.read_text().splitlines()) - 1
    kfp_schema = Path(run.artifact("ImportSchemaGen", "schema")["uri"]) / "schema.pbtxt"
    assert kfp_schema.read_text() == (_first(local / "ImportSchemaGen" / "schema") / "schema.pbtxt").read_text()


def test_blessing_equals_the_local_run(kfp_run, taxi_runs):
    run, _ = kfp_run
    blessing = run.artifact("SliceEval", "blessing")
    local_blessed = (_first(taxi_runs.root / "artifacts" / "SliceEval" / "blessing") / "BLESSED").exists()
    assert local_blessed
    assert blessing["metadata"]["blessed"] == 1
    assert (Path(blessing["uri"]) / "BLESSED").exists()


def test_model_trained_and_pushed_like_the_local_run(kfp_run, taxi_runs):
    run, base = kfp_run
    model = Path(run.artifact("Trainer", "model")["uri"])
    assert (model / "Format-Serving" / "saved_model.pb").exists()
    pushed = run.artifact("GovernedPush", "pushed_model")
    assert pushed["metadata"]["pushed"] == 1
    assert pushed["metadata"]["destination_name"] == "staging"  # auto; production (manual) waits
    staging = base / "kfp-serving" / "staging"
    versions = [p for p in staging.iterdir() if p.name.isdigit()]
    assert len(versions) == 1 and (versions[0] / "saved_model.pb").exists()
    assert (staging / "current").resolve() == versions[0].resolve()
    assert not (base / "kfp-serving" / "production").exists()
    assert list((taxi_runs.root / "serving" / "staging").iterdir()), "the local run pushed too"
