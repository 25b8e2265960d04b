"""The Trainer on Vertex AI: the custom training job arguments the config's hardware keys imply.

TFX runs a Trainer on Vertex AI through `tfx.extensions.google_cloud_ai_platform.Trainer`,
which reads three entries of its `custom_config` (see TFX's
`google_cloud_ai_platform/trainer/executor.py` and `training_clients.py`):

    ai_platform_enable_vertex: true
    ai_platform_vertex_region: <region>
    ai_platform_training_args:            # a Vertex AI CustomJob, plus the project
      project: <project>
      job_spec:
        worker_pool_specs:
          - machine_spec: {machine_type, accelerator_type, accelerator_count}
            replica_count: 1
            container_spec: {image_uri}

`tfxgate compile CONFIG --target vertex --output FILE.json` writes that whole
`custom_config` (the trainer module's hyperparameters and `distribution` included)
from `stages.trainer` (accelerator, strategy) and `kubeflow.vertex` (project,
region, machine type, workers). TFX fills in each pool's container `command` at
run time (its `run_executor` entry point with the artifacts of that run), so the
file sets no command or args; the image is `kubeflow.image`.

`multi_worker_mirrored` with `workers: N` becomes Vertex's chief pool (1 replica)
plus a worker pool (N-1 replicas) on the same machine and accelerator; Vertex
sets `TF_CONFIG` on each, which `MultiWorkerMirroredStrategy` reads (the taxi
trainer exports from the chief only: tfxgate.training.cluster.model_dir). A TPU
accelerator's `topology` becomes the pool's `tpu_topology`.
No TFX import: this is plain data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from tfxgate import storage
from tfxgate.pipelines.config.root import PipelineConfig
from tfxgate.pipelines.config.trainer import Accelerator

ENABLE_VERTEX_KEY = "ai_platform_enable_vertex"
VERTEX_REGION_KEY = "ai_platform_vertex_region"
TRAINING_ARGS_KEY = "ai_platform_training_args"

# Vertex AI's AcceleratorType values (google.cloud.aiplatform_v1.types.AcceleratorType;
# tests/test_vertex_training.py checks this list against the installed proto).
ACCELERATOR_TYPES = (
    "NVIDIA_TESLA_K80",
    "NVIDIA_TESLA_P100",
    "NVIDIA_TESLA_V100",
    "NVIDIA_TESLA_P4",
    "NVIDIA_TESLA_T4",
    "NVIDIA_TESLA_A100",
    "NVIDIA_A100_80GB",
    "NVIDIA_L4",
    "NVIDIA_H100_80GB",
    "NVIDIA_H100_MEGA_80GB",
    "NVIDIA_H200_141GB",
    "NVIDIA_B200",
    "TPU_V2",
    "TPU_V3",
    "TPU_V4_POD",
    "TPU_V5_LITEPOD",
)
# The machine family Vertex AI attaches each accelerator to, by accelerator count.
_MACHINES = {
    "NVIDIA_L4": {1: "g2-standard-8", 2: "g2-standard-24", 4: "g2-standard-48", 8: "g2-standard-96"},
    "NVIDIA_TESLA_A100": {n: f"a2-highgpu-{n}g" for n in (1, 2, 4, 8)} | {16: "a2-megagpu-16g"},
    "NVIDIA_A100_80GB": {n: f"a2-ultragpu-{n}g" for n in (1, 2, 4, 8)},
    "NVIDIA_H100_80GB": {n: f"a3-highgpu-{n}g" for n in (1, 2, 4, 8)},
    "NVIDIA_H100_MEGA_80GB": {8: "a3-megagpu-8g"},
    "NVIDIA_H200_141GB": {8: "a3-ultragpu-8g"},
    "NVIDIA_B200": {8: "a4-highgpu-8g"},
    "TPU_V5_LITEPOD": {n: f"ct5lp-hightpu-{n}t" for n in (1, 4, 8)},
}
CPU_MACHINE = "n1-standard-4"
N1_GPU_MACHINE = "n1-standard-8"  # K80, P4, P100, V100, T4 attach to N1 machines
TPU_MACHINE = "cloud-tpu"  # TPU v2/v3; v5e has its own machine types (ct5lp-hightpu-Nt)


class VertexError(ValueError):
    """The config cannot become Vertex AI training arguments (the message names the key)."""


def accelerator_type(accelerator: Accelerator) -> str:
    """Vertex AI's name for a GKE accelerator label: `nvidia-tesla-t4` -> `NVIDIA_TESLA_T4`.

    GKE's TPU labels end in `-podslice` (`tpu-v4-podslice` -> `TPU_V4_POD`,
    `tpu-v5-lite-podslice` -> `TPU_V5_LITEPOD`); a Vertex name is accepted as is.
    """
    name = accelerator.type.upper().replace("-", "_")
    name = name.replace("_LITE_PODSLICE", "_LITEPOD").replace("_PODSLICE", "_POD")
    if name not in ACCELERATOR_TYPES:
        raise VertexError(
            f"stages.trainer.accelerator.type: {accelerator.type!r} has no Vertex AI accelerator type "
            f"(Vertex AI knows {', '.join(ACCELERATOR_TYPES)}; GKE labels such as nvidia-tesla-t4 are translated)"
        )
    return name


def machine_type(accelerator_name: Optional[str], count: int) -> str:
    """The default machine for an accelerator and count (`kubeflow.vertex.machine_type` overrides it)."""
    if accelerator_name is None:
        return CPU_MACHINE
    if accelerator_name not in _MACHINES:
        return TPU_MACHINE if accelerator_name.startswith("TPU_") else N1_GPU_MACHINE
    machines = _MACHINES[accelerator_name]
    if count not in machines:
        raise VertexError(
            f"stages.trainer.accelerator.count: Vertex AI attaches {accelerator_name} in counts of "
            f"{sorted(machines)}, not {count} (or set kubeflow.vertex.machine_type)"
        )
    return machines[count]


def worker_pool_specs(config: PipelineConfig) -> list[dict[str, Any]]:
    """Vertex AI `WorkerPoolSpec`s (as JSON-able dicts) for the configured Trainer hardware."""
    trainer, vertex = config.stages.trainer, config.kubeflow.vertex
    if trainer.local_workers > 1:
        raise VertexError(
            f"stages.trainer.local_workers: {trainer.local_workers} loopback processes are for one machine; "
            "on Vertex AI set kubeflow.vertex.workers (one replica per machine)"
        )
    if vertex.workers > 1 and trainer.strategy != "multi_worker_mirrored":
        raise VertexError(
            f"kubeflow.vertex.workers: {vertex.workers} machines need stages.trainer.strategy "
            f"multi_worker_mirrored (got {trainer.strategy!r}, which trains on one machine)"
        )
    machine: dict[str, Any] = {}
    if trainer.accelerator is not None:
        name = accelerator_type(trainer.accelerator)
        machine["machine_type"] = vertex.machine_type or machine_type(name, trainer.accelerator.count)
        machine["accelerator_type"] = name
        machine["accelerator_count"] = trainer.accelerator.count
        if trainer.accelerator.topology is not None:
            machine["tpu_topology"] = trainer.accelerator.topology
    else:
        machine["machine_type"] = vertex.machine_type or CPU_MACHINE

    def pool(replicas: int) -> dict[str, Any]:
        return {
            "machine_spec": dict(machine),
            "replica_count": replicas,
            "container_spec": {"image_uri": config.kubeflow.image},
        }

    # Vertex's first pool is the chief (exactly one replica); the others are workers.
    return [pool(1)] + ([pool(vertex.workers - 1)] if vertex.workers > 1 else [])


def training_custom_config(config: PipelineConfig) -> dict[str, Any]:
    """The `custom_config` of `tfx.extensions.google_cloud_ai_platform.Trainer` for this config.

    Raises:
      VertexError: no `kubeflow.vertex` section, or hardware Vertex AI cannot provide.
    """
    if config.kubeflow is None or config.kubeflow.vertex is None:
        raise VertexError(f"{config.source}: kubeflow.vertex: section missing (needs at least kubeflow.vertex.project)")
    vertex = config.kubeflow.vertex
    return {
        **config.stages.trainer.custom_config(),
        ENABLE_VERTEX_KEY: True,
        VERTEX_REGION_KEY: vertex.region,
        TRAINING_ARGS_KEY: {
            "project": vertex.project,
            "job_spec": {"worker_pool_specs": worker_pool_specs(config)},
            "labels": {"tfxgate-pipeline": config.pipeline.name},
        },
    }


def write_training_args(config: PipelineConfig, output: Path) -> dict[str, Any]:
    """Writes `training_custom_config` as JSON to `output` (`*.json`) and returns it."""
    if output.suffix != ".json":
        raise VertexError(f"--output {output}: the Vertex AI training arguments are written as .json")
    custom_config = training_custom_config(config)
    storage.write_text(output, json.dumps(custom_config, indent=2, sort_keys=True))
    return custom_config
