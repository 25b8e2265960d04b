"""The Trainer's Vertex AI custom job arguments (pipelines/kubeflow/vertex.py, `tfxgate compile --target vertex`)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TAXI_CONFIG, run_cli
from tfxgate.pipelines.config.root import load_config
from tfxgate.pipelines.kubeflow import vertex
from tfxgate.pipelines.kubeflow.settings import DEFAULT_IMAGE

VERTEX = "kubeflow.vertex={project: my-project, region: europe-west4}"


def config(*overrides: str):
    return load_config(TAXI_CONFIG, overrides=[VERTEX, *overrides])


def test_accelerator_and_strategy_become_one_worker_pool_on_the_trainer():
    custom = vertex.training_custom_config(
        config("stages.trainer.accelerator={type: nvidia-tesla-t4, count: 2}", "stages.trainer.strategy=mirrored")
    )
    assert custom["ai_platform_enable_vertex"] is True
    assert custom["ai_platform_vertex_region"] == "europe-west4"
    args = custom["ai_platform_training_args"]
    assert args["project"] == "my-project"
    assert args["job_spec"]["worker_pool_specs"] == [
        {
            "machine_spec": {
                "machine_type": "n1-standard-8",
                "accelerator_type": "NVIDIA_TESLA_T4",
                "accelerator_count": 2,
            },
            "replica_count": 1,
            "container_spec": {"image_uri": DEFAULT_IMAGE},  # the tfxgate image (the Dockerfile), as every task
        }
    ]
    # The trainer module still gets its hyperparameters and strategy from the same custom_config.
    assert custom["distribution"]["strategy"] == "mirrored" and custom["hidden_units"] == [32, 16]


def test_no_accelerator_means_a_cpu_machine_without_accelerator_fields():
    [pool] = vertex.training_custom_config(config())["ai_platform_training_args"]["job_spec"]["worker_pool_specs"]
    assert pool["machine_spec"] == {"machine_type": "n1-standard-4"}


def test_multi_worker_mirrored_gets_a_chief_and_a_worker_pool():
    pools = vertex.worker_pool_specs(
        config(
            "stages.trainer.accelerator={type: nvidia-l4, count: 2}",
            "stages.trainer.strategy=multi_worker_mirrored",
            "kubeflow.vertex.workers=3",
        )
    )
    assert [p["replica_count"] for p in pools] == [1, 2]
    assert all(
        p["machine_spec"] == {"machine_type": "g2-standard-24", "accelerator_type": "NVIDIA_L4", "accelerator_count": 2}
        for p in pools
    )


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("nvidia-tesla-a100", "NVIDIA_TESLA_A100"),
        ("nvidia-h100-80gb", "NVIDIA_H100_80GB"),
        ("tpu-v4-podslice", "TPU_V4_POD"),
        ("tpu-v5-lite-podslice", "TPU_V5_LITEPOD"),
        ("NVIDIA_L4", "NVIDIA_L4"),
    ],
)
def test_gke_accelerator_labels_translate_to_vertex_names(label, expected):
    from tfxgate.pipelines.config.trainer import Accelerator

    assert vertex.accelerator_type(Accelerator(type=label)) == expected


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["stages.trainer.accelerator={type: amd-mi300, count: 1}"],
            "stages.trainer.accelerator.type: 'amd-mi300' has no Vertex AI accelerator type",
        ),
        (
            ["stages.trainer.accelerator={type: nvidia-l4, count: 3}"],
            "stages.trainer.accelerator.count: Vertex AI attaches NVIDIA_L4 in counts of [1, 2, 4, 8], not 3",
        ),
        (
            ["kubeflow.vertex.workers=2"],
            "kubeflow.vertex.workers: 2 machines need stages.trainer.strategy multi_worker_mirrored",
        ),
        (
            ["stages.trainer.strategy=multi_worker_mirrored", "stages.trainer.local_workers=2"],
            "stages.trainer.local_workers: 2 loopback processes are for one machine",
        ),
    ],
)
def test_hardware_vertex_cannot_provide_is_named(overrides, message):
    with pytest.raises(vertex.VertexError) as err:
        vertex.training_custom_config(config(*overrides))
    assert message in str(err.value)


def test_our_accelerator_names_are_vertex_ais():
    from google.cloud.aiplatform_v1.types import AcceleratorType

    assert set(vertex.ACCELERATOR_TYPES) <= set(AcceleratorType.__members__)


def _custom_job(custom_config):
    """The CustomJob TFX's own VertexJobClient builds from our arguments, parsed by Vertex's proto-plus type."""
    from google.cloud.aiplatform_v1.types import CustomJob
    from tfx.extensions.google_cloud_ai_platform import training_clients

    args = dict(custom_config["ai_platform_training_args"])
    args.pop("project")  # TFX's runner pops it before building the job
    client = training_clients.VertexJobClient.__new__(training_clients.VertexJobClient)  # no cloud client needed
    job = client.create_training_job({}, {}, {}, "tfx.components.trainer.executor.GenericExecutor", args, None, None)
    return CustomJob(job)  # refuses unknown field names and enum values


def test_gpu_chief_and_workers_become_valid_vertex_pools_each_running_the_trainer():
    job = _custom_job(
        vertex.training_custom_config(
            config(
                "stages.trainer.accelerator={type: nvidia-tesla-a100, count: 2}",
                "stages.trainer.strategy=multi_worker_mirrored",
                "kubeflow.vertex.workers=3",
            )
        )
    )
    chief, workers = job.job_spec.worker_pool_specs
    assert (chief.replica_count, workers.replica_count) == (1, 2)
    for pool in (chief, workers):
        assert pool.machine_spec.machine_type == "a2-highgpu-2g"
        assert pool.machine_spec.accelerator_type.name == "NVIDIA_TESLA_A100"
        assert pool.machine_spec.accelerator_count == 2
        assert "tfx.components.trainer.executor.GenericExecutor" in pool.container_spec.command


def test_tpu_topology_becomes_a_valid_vertex_tpu_pool():
    custom = vertex.training_custom_config(
        config(
            "stages.trainer.accelerator={type: tpu-v5-lite-podslice, count: 4, topology: 2x2}",
            "stages.trainer.strategy=tpu",
        )
    )
    [pool] = _custom_job(custom).job_spec.worker_pool_specs
    assert pool.machine_spec.machine_type == "ct5lp-hightpu-4t"
    assert pool.machine_spec.accelerator_type.name == "TPU_V5_LITEPOD"
    assert (pool.machine_spec.accelerator_count, pool.machine_spec.tpu_topology) == (4, "2x2")
    assert custom["distribution"]["strategy"] == "tpu"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("stages.trainer.accelerator={type: nvidia-l4, topology: 2x2}", "topology '2x2' is for a TPU slice"),
        ("stages.trainer.accelerator={type: tpu-v4-podslice, topology: big}", "stages.trainer.accelerator.topology"),
    ],
)
def test_a_topology_off_a_tpu_or_malformed_names_the_key(override, message):
    from tfxgate.pipelines.config.root import ConfigError

    with pytest.raises(ConfigError) as err:
        config(override)
    assert message in str(err.value) and "stages.trainer.accelerator" in str(err.value)


def test_tfx_vertex_client_turns_the_arguments_into_a_valid_custom_job():
    """TFX's own VertexJobClient builds the CustomJob from our args; Vertex's proto accepts every field."""
    custom = vertex.training_custom_config(
        config("stages.trainer.accelerator={type: nvidia-tesla-t4, count: 1}", "stages.trainer.strategy=mirrored")
    )
    [pool] = _custom_job(custom).job_spec.worker_pool_specs
    assert pool.machine_spec.accelerator_type.name == "NVIDIA_TESLA_T4"
    assert pool.machine_spec.accelerator_count == 1
    assert pool.container_spec.image_uri == DEFAULT_IMAGE
    assert "tfx.components.trainer.executor.GenericExecutor" in pool.container_spec.command


def test_compile_target_vertex_writes_the_custom_config(tmp_path):
    out = tmp_path / "trainer_vertex.json"
    result = run_cli(
        "compile",
        str(TAXI_CONFIG),
        "--target",
        "vertex",
        "--output",
        str(out),
        "--set",
        VERTEX,
        "--set",
        "stages.trainer.accelerator={type: nvidia-tesla-t4, count: 2}",
        root=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "worker pool: 1 x n1-standard-8 + 2 x NVIDIA_TESLA_T4" in result.stdout
    written = json.loads(out.read_text())
    assert (
        written["ai_platform_training_args"]["job_spec"]["worker_pool_specs"][0]["machine_spec"]["accelerator_count"]
        == 2
    )


def test_compile_target_vertex_without_a_vertex_section_exits_2(tmp_path):
    result = run_cli(
        "compile", str(TAXI_CONFIG), "--target", "vertex", "--output", str(tmp_path / "v.json"), root=tmp_path
    )
    assert result.returncode == 2
    assert "kubeflow.vertex: section missing (needs at least kubeflow.vertex.project)" in result.stderr
    assert not (tmp_path / "v.json").exists()
