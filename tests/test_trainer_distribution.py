"""Trainer hardware config: strategy chosen as configured, passed via custom_config, resources in the spec."""

from __future__ import annotations

import importlib.util
import json
import logging

import pytest
import yaml

from tests.conftest import REPO, TAXI_CONFIG
from tfxgate.pipelines.config.root import ConfigError, load_config


@pytest.fixture(scope="module")
def trainer():
    spec = importlib.util.spec_from_file_location("taxi_trainer", REPO / "trainers" / "taxi" / "trainer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def no_gpu(trainer):
    if trainer.tf.config.list_logical_devices("GPU"):
        pytest.skip("this machine has a GPU")


def test_mirrored_without_gpu_falls_back_to_one_device_with_a_warning(trainer, no_gpu, caplog):
    with caplog.at_level(logging.WARNING):
        strategy = trainer.distribution_strategy("mirrored")
    assert isinstance(strategy, trainer.tf.distribute.OneDeviceStrategy)
    assert "strategy 'mirrored' requested but no GPU is visible" in caplog.text


def test_one_device_is_the_cpu_here(trainer, no_gpu):
    strategy = trainer.distribution_strategy("one_device")
    assert isinstance(strategy, trainer.tf.distribute.OneDeviceStrategy)
    assert strategy.num_replicas_in_sync == 1


def test_unknown_strategy_is_refused(trainer):
    with pytest.raises(ValueError, match="unknown strategy 'parallel'"):
        trainer.distribution_strategy("parallel")


def test_distribution_reaches_the_trainer_custom_config():
    config = load_config(
        TAXI_CONFIG,
        overrides=[
            "stages.trainer.strategy=mirrored",
            "stages.trainer.mixed_precision=true",
            "stages.trainer.per_replica_batch_size=64",
        ],
    )
    custom = config.stages.trainer.custom_config()
    assert custom["distribution"] == {"strategy": "mirrored", "mixed_precision": True, "per_replica_batch_size": 64}
    assert custom["hidden_units"] == [32, 16]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("stages.trainer.strategy=tpu", "strategy 'tpu' needs accelerator.type naming a TPU"),
        ("stages.trainer.strategy=horovod", "stages.trainer.strategy"),
        ("stages.trainer.accelerator={type: nvidia-l4, count: 0}", "stages.trainer.accelerator.count"),
        ("stages.trainer.per_replica_batch_size=0", "stages.trainer.per_replica_batch_size"),
    ],
)
def test_bad_trainer_hardware_config_names_the_key(override, message):
    with pytest.raises(ConfigError) as err:
        load_config(TAXI_CONFIG, overrides=[override])
    assert message in str(err.value)


def test_compiled_spec_requests_the_accelerator_on_the_trainer_only(tmp_path):
    from tfxgate.pipelines.kubeflow.compile import compile_kubeflow

    config = load_config(
        TAXI_CONFIG,
        overrides=[
            "stages.trainer.accelerator={type: nvidia-tesla-t4, count: 2}",
            "stages.trainer.strategy=mirrored",
            f"kubeflow.pipeline_root={tmp_path / 'root'}",
        ],
    )
    compile_kubeflow(config, tmp_path / "p.yaml")
    spec, platform = yaml.safe_load_all((tmp_path / "p.yaml").read_text())
    executors = spec["deploymentSpec"]["executors"]
    accelerator = executors["Trainer_executor"]["container"]["resources"]["accelerator"]
    assert accelerator == {
        "type": "nvidia-tesla-t4",
        "count": "2",
        "resourceType": "nvidia.com/gpu",
        "resourceCount": "2",
    }
    others = [name for name, e in executors.items() if "accelerator" in e.get("container", {}).get("resources", {})]
    assert others == ["Trainer_executor"]
    selectors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert selectors == {
        "Trainer_executor": {"nodeSelector": {"labels": {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}}}
    }
    custom_config = spec["root"]["dag"]["tasks"]["Trainer"]["inputs"]["parameters"]["custom_config"]
    distribution = json.loads(custom_config["runtimeValue"]["constant"])["distribution"]
    assert distribution == {"strategy": "mirrored", "mixed_precision": False}


def test_multi_worker_mirrored_is_chosen_as_configured_and_runs_as_one_worker_without_tf_config():
    """Its own process: TF creates a multi-worker strategy's collectives once, at startup."""
    import os
    import subprocess
    import sys

    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('t', {str(REPO / 'trainers' / 'taxi' / 'trainer.py')!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "strategy = module.distribution_strategy('multi_worker_mirrored')\n"
        "mwms = isinstance(strategy, module.tf.distribute.MultiWorkerMirroredStrategy)\n"
        "print(mwms, strategy.num_replicas_in_sync)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"} | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-2:] == ["True", "1"]
