"""Multi-worker training on loopback: the taxi trainer as a chief plus a worker process (TF_CONFIG).

`stages.trainer.local_workers: 2` swaps the Trainer's executor for
pipelines/trainer_cluster.py, which runs the module's `run_fn` in two processes
(tfxgate/training/launch.py) under MultiWorkerMirroredStrategy. The Trainer's
real executor runs here on the Examples and schema of the session's taxi run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, TAXI_CONFIG
from tfxgate.pipelines.config.root import ConfigError, load_config
from tfxgate.training import cluster, launch
from tfxgate.training.record import weights_digest

STEPS = 12


def _artifact(type_name: str, uri: Path, **properties):
    from tfx.types import standard_artifacts

    artifact = getattr(standard_artifacts, type_name)()
    artifact.uri = str(uri)
    for name, value in properties.items():
        setattr(artifact, name, value)
    return artifact


@pytest.fixture(scope="module")
def trained(taxi_runs, tmp_path_factory):
    """The Trainer's executor with local_workers=2 on the session run's examples; its outputs and its time."""
    from tfx.components.trainer import executor as _  # noqa: F401  (TFX's import order: before our executor)

    from tfxgate.pipelines.trainer_cluster import LoopbackClusterExecutor

    [examples] = sorted((taxi_runs.root / "artifacts" / "Ingest" / "examples").iterdir())[:1]
    [schema] = sorted((taxi_runs.root / "artifacts" / "ImportSchemaGen" / "schema").iterdir())[:1]
    out = tmp_path_factory.mktemp("cluster")
    inputs = {
        "examples": [_artifact("Examples", examples, split_names=json.dumps(["train", "eval"]))],
        "schema": [_artifact("Schema", schema)],
    }
    outputs = {"model": [_artifact("Model", out / "model")], "model_run": [_artifact("ModelRun", out / "model_run")]}
    config = load_config(
        TAXI_CONFIG,
        overrides=["stages.trainer.strategy=multi_worker_mirrored", "stages.trainer.local_workers=2"],
    )
    custom_config = {**config.stages.trainer.custom_config(), "batch_size": 64}
    exec_properties = {
        "module_file": str(REPO / "trainers" / "taxi" / "trainer.py"),
        "train_args": json.dumps({"num_steps": STEPS}),
        "eval_args": json.dumps({"num_steps": 2}),
        "custom_config": json.dumps(custom_config),
    }
    scratch = out / "tmp"  # the processes' TMPDIR: where a worker's temporary export goes
    scratch.mkdir()
    patch = pytest.MonkeyPatch()
    patch.setenv("TMPDIR", str(scratch))
    started = time.monotonic()
    try:
        LoopbackClusterExecutor().Do(inputs, outputs, exec_properties)
    finally:
        patch.undo()
    return out, scratch, time.monotonic() - started


def test_chief_and_worker_each_ran_every_step_and_ended_with_the_same_weights(trained):
    out, _, _ = trained
    records = {p.stem: json.loads(p.read_text()) for p in (out / "model_run" / "tasks").glob("*.json")}
    assert sorted(records) == ["chief-0", "worker-0"]
    assert [(r["steps"], r["replicas"]) for r in records.values()] == [(STEPS, 2), (STEPS, 2)]
    chief, worker = records["chief-0"], records["worker-0"]
    assert chief["weights_sha256"] == worker["weights_sha256"]
    assert chief["initial_weights_sha256"] == worker["initial_weights_sha256"]
    assert chief["weights_sha256"] != chief["initial_weights_sha256"]  # it trained


def test_only_the_chief_exports_and_the_export_is_the_trained_model(trained):
    import tensorflow as tf

    out, scratch, _ = trained
    serving = out / "model" / "Format-Serving"
    assert (serving / "saved_model.pb").is_file()
    assert list(scratch.iterdir()) == []  # the worker's temporary export was removed
    model = tf.keras.models.load_model(serving)
    chief = json.loads((out / "model_run" / "tasks" / "chief-0.json").read_text())
    assert weights_digest(model.get_weights()) == chief["weights_sha256"]
    assert sorted(p.name for p in (out / "model_run" / "processes").glob("*.log")) == ["chief-0.log", "worker-0.log"]


def test_a_failed_worker_stops_the_cluster_and_is_named(tmp_path):
    module = tmp_path / "trainer.py"
    module.write_text(
        "import time\nfrom tfxgate.training import cluster\n"
        "def run_fn(fn_args):\n"
        "    if not cluster.is_chief():\n        raise SystemExit('worker: no data')\n"
        "    time.sleep(120)  # the chief waits for the worker, as in a collective\n"
    )
    spec = {"module_file": str(module), "function": "run_fn", "fn_args": {}}
    started = time.monotonic()
    with pytest.raises(launch.ClusterError) as err:
        launch.run_cluster(spec, processes=2, log_dir=tmp_path / "logs")
    assert time.monotonic() - started < 60  # the chief was stopped, not waited for
    assert "training process worker-0 exited with 1" in str(err.value)
    assert "worker: no data" in str(err.value)


def test_loopback_cluster_is_one_chief_and_workers_on_distinct_ports():
    configs = cluster.loopback_cluster(3)
    assert [c["task"] for c in configs] == [
        {"type": "chief", "index": 0},
        {"type": "worker", "index": 0},
        {"type": "worker", "index": 1},
    ]
    addresses = configs[0]["cluster"]["chief"] + configs[0]["cluster"]["worker"]
    assert len(set(addresses)) == 3


@pytest.mark.parametrize(
    ("tf_config", "chief"),
    [
        (None, True),
        ({"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "chief", "index": 0}}, True),
        ({"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker", "index": 0}}, False),
        ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}}, True),
        ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 1}}, False),
    ],
)
def test_the_chief_saves_to_the_model_dir_a_worker_to_a_removed_temporary_one(tf_config, chief, tmp_path):
    environ = {} if tf_config is None else {cluster.TF_CONFIG: json.dumps(tf_config)}
    with cluster.model_dir(str(tmp_path / "serving"), environ=environ) as target:
        Path(target).mkdir(parents=True)
    assert cluster.is_chief(environ) is chief
    assert (target == str(tmp_path / "serving")) is chief
    assert Path(target).exists() is chief


def test_local_workers_need_multi_worker_mirrored():
    with pytest.raises(ConfigError) as err:
        load_config(TAXI_CONFIG, overrides=["stages.trainer.local_workers=2"])
    message = str(err.value)
    assert "stages.trainer" in message
    assert "local_workers: 2 processes need strategy multi_worker_mirrored" in message


def test_local_workers_swap_the_trainer_executor_only_when_above_one(tmp_path):
    from tfxgate.pipelines.build import build_pipeline
    from tfxgate.pipelines.trainer_cluster import LoopbackClusterExecutor

    def trainer_executor(*overrides):
        config = load_config(TAXI_CONFIG, overrides=[f"pipeline.root={tmp_path}", *overrides])
        [node] = [n for n in build_pipeline(config).components if n.id == "Trainer"]
        return node.executor_spec.executor_class

    assert trainer_executor("stages.trainer.strategy=multi_worker_mirrored", "stages.trainer.local_workers=2") is (
        LoopbackClusterExecutor
    )
    assert trainer_executor() is not LoopbackClusterExecutor
