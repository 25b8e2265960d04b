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

# Component ids a resource request may name ("default" applies to all of them).
COMPONENT_IDS = (
    "CsvExampleGen",
    "FileBasedExampleGen",
    "StatisticsGen",
    "Validate",
    "SchemaGen",
    "ImportSchemaGen",
    "ExampleValidator",
    "Trainer",
    "Evaluator",
    "Pusher",
    "GovernedPush",
)
DEFAULT_IMAGE = "gcr.io/tfx-oss-public/tfx:1.16.0"
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
    image: str = Field(default=DEFAULT_IMAGE, description="Container image with TFX and tfxgate installed.")
    service_account: Optional[str] = Field(default=None, description="Kubernetes service account of the run.")
    pipeline_root: str = Field(description="Where the cluster writes artifacts: gs://, s3://, minio:// or a path.")
    caching: bool = True
    retries: int = Field(default=0, ge=0, le=10, description="Retries of a failed task.")
    resources: dict[str, ResourceRequest] = Field(
        default_factory=dict, description="Component id (or 'default') -> cpu/memory requests."
    )
    vertex: Optional[VertexSection] = Field(default=None, description="The Trainer as a Vertex AI custom job.")

    @field_validator("pipeline_root")
    @classmethod
    def _root(cls, value: str) -> str:
        if not value.startswith(REMOTE_SCHEMES) and not value.startswith("/"):
            raise ValueError(f"{value!r} must start with gs://, s3://, minio:// or be an absolute path")
        return value.rstrip("/")

    @field_validator("resources")
    @classmethod
    def _known_components(cls, resources: dict[str, ResourceRequest]) -> dict[str, ResourceRequest]:
        unknown = sorted(set(resources) - {"default", *COMPONENT_IDS})
        if unknown:
            raise ValueError(f"unknown component {unknown[0]!r} (known: default, {', '.join(COMPONENT_IDS)})")
        return resources

    @property
    def remote(self) -> bool:
        return self.pipeline_root.startswith(REMOTE_SCHEMES)

    def resources_for(self, component_id: str) -> ResourceRequest:
        """The request for one component: its own entry over the default."""
        default = self.resources.get("default", ResourceRequest())
        own = self.resources.get(component_id, ResourceRequest())
        return ResourceRequest(cpu=own.cpu or default.cpu, memory=own.memory or default.memory)
