"""The `kubeflow:` section of a pipeline YAML: how the pipeline runs on Kubeflow Pipelines.

Only `tfxgate compile --target kubeflow` and `tfxgate submit` read it; a local
run ignores it. Like every section it forbids unknown keys and is validated on
load, so a typo in a resource request fails in `tfxgate check`, not on the
cluster. Authentication never lives here: `tfxgate submit` takes it from the
environment.
"""

from __future__ import annotations

import re
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tfxgate import __version__

# The image the Dockerfile at the repo root builds: the locked stack, the tfxgate wheel,
# the trainer modules. Push it to a registry the cluster can pull from and name it in
# `kubeflow.image` (or `--image`); README "Kubeflow Pipelines" has the commands.
IMAGE_NAME = "tfxgate"
DEFAULT_IMAGE = f"{IMAGE_NAME}:{__version__}"
# Images known to lack tfxgate: every custom component task would fail to import.
# A prefix matches any tag. Only `--image` (an explicit choice) gets past this.
WITHOUT_TFXGATE = ("gcr.io/tfx-oss-public/tfx:", "tensorflow/tfx:", "gcr.io/ml-pipeline/")
REMOTE_SCHEMES = ("gs://", "s3://", "minio://")
_MEMORY = re.compile(r"^\d+(\.\d+)?(K|M|G|T|Ki|Mi|Gi|Ti)?$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResourceRequest(_Model):
    """CPU/memory requested for one component's container (Kubernetes quantities)."""

    cpu: Optional[float] = Field(default=None, gt=0, description="vCPUs, e.g. 0.5 or 4.")
    memory: Optional[str] = Field(default=None, description="Kubernetes quantity, e.g. 512Mi or 8G.")

    @field_validator("memory")
    @classmethod
    def _quantity(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _MEMORY.match(value):
            raise ValueError(f"{value!r} is not a memory quantity (e.g. 512Mi, 4G)")
        return value


class VertexSection(_Model):
    """Where the Trainer runs as a Vertex AI custom job (`tfxgate compile --target vertex`)."""

    project: str = Field(min_length=1, description="Google Cloud project of the training job.")
    region: str = Field(default="us-central1", min_length=1, description="Vertex AI region, e.g. europe-west4.")
    machine_type: Optional[str] = Field(
        default=None, description="Compute Engine machine type; default from the accelerator (see kubeflow/vertex.py)."
    )
    workers: int = Field(default=1, ge=1, le=64, description="Machines; >1 needs strategy multi_worker_mirrored.")


class KubeflowSection(_Model):
    image: str = Field(
        default=DEFAULT_IMAGE, min_length=1, description="Image with the locked stack and tfxgate (the Dockerfile)."
    )
    service_account: Optional[str] = Field(default=None, description="Kubernetes service account of the run.")
    pipeline_root: str = Field(description="Where the cluster writes artifacts: gs://, s3://, minio:// or a path.")
    caching: bool = True
    retries: int = Field(default=0, ge=0, le=10, description="Retries of a failed task.")
    resources: dict[str, ResourceRequest] = Field(
        default_factory=dict,
        description="Stage (a task of the compiled pipeline, e.g. Trainer) or 'default' -> cpu/memory requests.",
    )
    vertex: Optional[VertexSection] = Field(default=None, description="The Trainer as a Vertex AI custom job.")

    @field_validator("pipeline_root")
    @classmethod
    def _root(cls, value: str) -> str:
        if not value.startswith(REMOTE_SCHEMES) and not value.startswith("/"):
            raise ValueError(f"{value!r} must start with gs://, s3://, minio:// or be an absolute path")
        return value.rstrip("/")

    @property
    def remote(self) -> bool:
        return self.pipeline_root.startswith(REMOTE_SCHEMES)

    def resources_for(self, stage: str) -> ResourceRequest:
        """The request for one stage: its own entry over the default."""
        default = self.resources.get("default", ResourceRequest())
        own = self.resources.get(stage, ResourceRequest())
        return ResourceRequest(cpu=own.cpu or default.cpu, memory=own.memory or default.memory)


def lacks_tfxgate(image: str) -> bool:
    """Whether `image` is one known to have no tfxgate in it (stock TFX / KFP images)."""
    return image.startswith(WITHOUT_TFXGATE)


def resource_problems(resources: dict[str, ResourceRequest], *, stages: list[str]) -> list[tuple[list[str], str]]:
    """`kubeflow.resources` keys that name no stage of the pipeline, as (key path, message) pairs.

    `stages` are the container tasks of the pipeline the config builds
    (`tfxgate.pipelines.stage_ids.container_stages`): resolvers are ML Metadata
    queries the backend answers, not pods, so they take no resources.
    """
    valid = ", ".join(["default", *stages])
    return [
        (["kubeflow", "resources", name], f"unknown stage {name!r}: this pipeline's stages are {valid}")
        for name in resources
        if name != "default" and name not in stages
    ]
