"""Trainer hardware keys of `stages.trainer`: accelerator, tf.distribute strategy, mixed precision, local workers.

The trainer module reads them from TFX's `custom_config` (under `distribution`)
and builds its model under the chosen strategy; `tfxgate compile --target
kubeflow` turns `accelerator` into the Trainer task's accelerator request and
node selector (and on no other task).
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

Strategy = Literal["one_device", "mirrored", "multi_worker_mirrored", "tpu"]

# Kubernetes node label GKE puts on accelerator node pools.
GKE_ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"


class Accelerator(BaseModel):
    """The accelerator the Trainer's pod requests on Kubeflow."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(description="e.g. nvidia-tesla-t4, nvidia-l4, tpu-v4-podslice")
    count: int = Field(default=1, ge=1, le=16)
    resource: str = Field(default="nvidia.com/gpu", description="Kubernetes extended resource to request.")
    node_selector: Optional[dict[str, str]] = Field(
        default=None, description=f"Node labels; default {{{GKE_ACCELERATOR_LABEL}: <type>}}."
    )
    topology: Optional[str] = Field(
        default=None,
        pattern=r"^[1-9][0-9]*(x[1-9][0-9]*){1,2}$",
        description="TPU slice topology, e.g. 2x2 or 2x2x1 (Vertex AI's MachineSpec.tpu_topology); TPUs only.",
    )

    @model_validator(mode="after")
    def _topology_is_for_tpus(self) -> Accelerator:
        if self.topology is not None and "tpu" not in self.type.lower():
            raise ValueError(f"topology {self.topology!r} is for a TPU slice; {self.type!r} is not a TPU")
        return self

    @property
    def node_labels(self) -> dict[str, str]:
        return self.node_selector if self.node_selector is not None else {GKE_ACCELERATOR_LABEL: self.type}


def distribution_config(
    *, strategy: Strategy, mixed_precision: bool, per_replica_batch_size: Optional[int], local_workers: int = 1
) -> dict[str, object]:
    """The `distribution` entry of the Trainer's custom_config (plain JSON values).

    `local_workers` appears only above 1, so a one-process config keeps its cache key.
    """
    config: dict[str, object] = {"strategy": strategy, "mixed_precision": mixed_precision}
    if per_replica_batch_size is not None:
        config["per_replica_batch_size"] = per_replica_batch_size
    if local_workers > 1:
        config["local_workers"] = local_workers
    return config
