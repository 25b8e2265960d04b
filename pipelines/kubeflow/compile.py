"""Compiling a config for Kubeflow Pipelines: a KFP v2 spec from the same YAML as a local run.

TFX's `KubeflowV2DagRunner` turns the pipeline `build.py` builds into a KFP
`PipelineJob`; tfxgate then replaces the stand-in resolvers' queries with its
own (resolvers.py) and applies the `kubeflow:` section the runner has no knobs
for (per-stage CPU/memory requests, caching, retries, the Trainer's
accelerator and node selector) and writes one of two files:

* `*.yaml`: the `PipelineSpec` (with `defaultPipelineRoot`) followed, when a
  node selector is configured, by a Kubernetes `PlatformSpec` document — the
  layout the `kfp` SDK writes and KFP's upload API reads;
* `*.json`: the whole `PipelineJob` (runtime config included), as Vertex AI reads it.

The Trainer's module file is packaged as a wheel at compile time. With a local
`pipeline_root` it is written there; with a remote one (gs://, s3://) it is
staged next to the output file and the spec points at
`<pipeline_root>/_wheels/<wheel>`: copy it there before a run (the compile
prints the command), so compiling needs no cloud credentials.

Every container runs `kubeflow.image` (default: the image the repo's Dockerfile
builds). An image known to lack tfxgate (stock TFX) is refused unless the caller
names it explicitly (`--image`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from tfxgate import storage
from tfxgate.pipelines.config.root import PipelineConfig
from tfxgate.pipelines.kubeflow import resolvers
from tfxgate.pipelines.kubeflow.settings import lacks_tfxgate, resource_problems
from tfxgate.pipelines.stage_ids import container_stages

WHEELS = "_wheels"
# Ingest's span resolution on Kubeflow: its task's preCacheCheck hook (TFX adds one to FileBasedExampleGen only).
INGEST_DRIVER = "tfxgate.components.ingest.kubeflow_driver"


class CompileError(ValueError):
    """The config cannot be compiled for Kubeflow (the message names the key)."""


@dataclass
class CompiledPipeline:
    """What `compile_kubeflow` wrote."""

    output: Path
    job: dict[str, Any]
    staged_wheels: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def spec(self) -> dict[str, Any]:
        return self.job["pipelineSpec"]


def compile_kubeflow(config: PipelineConfig, output: Path, *, image: Optional[str] = None) -> CompiledPipeline:
    """Compiles a config into a KFP v2 pipeline file.

    Args:
      config: a loaded config with a `kubeflow:` section.
      output: `*.yaml` (KFP PipelineSpec) or `*.json` (PipelineJob).
      image: the image every task runs, chosen explicitly (`--image`): overrides
        `kubeflow.image` and is used even where it is known to lack tfxgate.

    Raises:
      CompileError: no `kubeflow:` section, an unsupported output suffix, an image
        without tfxgate, or a per-stage setting naming no task of the pipeline.
    """
    if config.kubeflow is None:
        raise CompileError(f"{config.source}: kubeflow: section missing (needs at least kubeflow.pipeline_root)")
    if output.suffix not in (".yaml", ".yml", ".json"):
        raise CompileError(f"--output {output}: use .yaml (KFP) or .json (Vertex AI PipelineJob)")
    kubeflow = config.kubeflow
    check_image(config, image=image)
    from tfx import v1 as tfx  # heavy: imported only when compiling

    from tfxgate.pipelines.build import build_pipeline

    pipeline = build_pipeline(config, target="kubeflow")
    output.parent.mkdir(parents=True, exist_ok=True)
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            display_name=config.pipeline.name, default_image=image or kubeflow.image, use_pipeline_spec_2_1=True
        )
    )
    with _console_to(output.with_suffix(".build.log")):  # setup.py's wheel-building chatter
        staged = _stage_wheels(pipeline, kubeflow.pipeline_root, output.parent / WHEELS) if kubeflow.remote else []
        job = runner.run(pipeline, write_out=False)
    resolvers.apply(job["pipelineSpec"], spanned=config.data.has_span)
    add_ingest_driver(job["pipelineSpec"])
    switched_off = [s for s in container_stages(config, every=True) if s not in container_stages(config)]
    problems = resource_problems(kubeflow.resources, stages=container_tasks(job["pipelineSpec"]) + switched_off)
    if problems:
        raise CompileError("; ".join(f"{config.source}: {'.'.join(key)}: {message}" for key, message in problems))
    apply_kubeflow_settings(job, config)
    compiled = CompiledPipeline(output=output, job=job, staged_wheels=staged, warnings=_local_paths(config))
    _write(compiled, config)
    return compiled


def check_image(config: PipelineConfig, *, image: Optional[str]) -> None:
    """Refuses `kubeflow.image` when it is known to lack tfxgate and no image was named explicitly."""
    configured = config.kubeflow.image
    if image is None and lacks_tfxgate(configured):
        raise CompileError(
            f"{config.source}: kubeflow.image {configured} has no tfxgate in it, so every tfxgate task would "
            "fail to import: build the image from the repo's Dockerfile and name it in kubeflow.image "
            f"(README: Kubeflow Pipelines), or pass --image {configured} to use it anyway"
        )


def add_ingest_driver(spec: dict[str, Any]) -> None:
    """Gives the Ingest task the driver hook TFX gives a FileBasedExampleGen, running Ingest's own driver."""
    component = spec["components"][spec["root"]["dag"]["tasks"]["Ingest"]["componentRef"]["name"]]
    container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
    inputs_spec = json.dumps(component.get("inputDefinitions", {}), sort_keys=True)
    args = ["--json_serialized_invocation_args", "{{$}}", "--json_serialized_inputs_spec_args", inputs_spec]
    container["lifecycle"] = {"preCacheCheck": {"command": ["python", "-m", INGEST_DRIVER], "args": args}}


def container_tasks(spec: dict[str, Any]) -> list[str]:
    """The tasks of a compiled spec that run a container (the others are resolver queries)."""
    executors = spec["deploymentSpec"]["executors"]
    tasks = spec["root"]["dag"]["tasks"]
    return [
        name
        for name, task in tasks.items()
        if "container" in executors[spec["components"][task["componentRef"]["name"]]["executorLabel"]]
    ]


def apply_kubeflow_settings(job: dict[str, Any], config: PipelineConfig) -> None:
    """Caching, retries, resources and the Trainer's accelerator from the config, in place."""
    kubeflow = config.kubeflow
    spec = job["pipelineSpec"]
    spec["defaultPipelineRoot"] = kubeflow.pipeline_root
    tasks = spec["root"]["dag"]["tasks"]
    executors = spec["deploymentSpec"]["executors"]
    for name, task in tasks.items():
        task["cachingOptions"] = {"enableCache": kubeflow.caching and config.pipeline.enable_cache}
        container = executors[spec["components"][task["componentRef"]["name"]]["executorLabel"]].get("container")
        if container is None:  # resolver tasks are ML Metadata queries, not pods
            continue
        if kubeflow.retries:
            task["retryPolicy"] = {"maxRetryCount": kubeflow.retries}
        request = kubeflow.resources_for(name)
        resources = container.setdefault("resources", {})
        if request.cpu is not None:
            resources["cpuRequest"] = request.cpu
            resources["resourceCpuRequest"] = f"{request.cpu:g}"
        if request.memory is not None:
            resources["resourceMemoryRequest"] = request.memory
        accelerator = config.stages.trainer.accelerator
        if name == "Trainer" and accelerator is not None:
            resources["accelerator"] = {
                "type": accelerator.type,
                "count": str(accelerator.count),
                "resourceType": accelerator.resource,
                "resourceCount": str(accelerator.count),
            }
        if not resources:
            del container["resources"]


def platform_spec(config: PipelineConfig) -> dict[str, Any] | None:
    """The Kubernetes platform document: the Trainer's node selector, when it has an accelerator."""
    accelerator = config.stages.trainer.accelerator
    if accelerator is None:
        return None
    executors = {"Trainer_executor": {"nodeSelector": {"labels": accelerator.node_labels}}}
    return {"platforms": {"kubernetes": {"deploymentSpec": {"executors": executors}}}}


def _write(compiled: CompiledPipeline, config: PipelineConfig) -> None:
    job = compiled.job
    platform = platform_spec(config)
    if compiled.output.suffix == ".json":
        storage.write_text(compiled.output, json.dumps(job, indent=2, sort_keys=True))
        return
    documents = [compiled.spec] + ([platform] if platform else [])
    header = f"# PIPELINE DEFINITION\n# Name: {compiled.spec['pipelineInfo']['name']}\n"
    storage.write_text(compiled.output, header + yaml.safe_dump_all(documents, sort_keys=True))


@contextlib.contextmanager
def _console_to(log: Path):
    """Sends this process's (and its children's) stdout/stderr file descriptors to `log`."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        with log.open("ab") as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def _stage_wheels(pipeline, pipeline_root: str, staging: Path) -> list[Path]:
    """Packages module files into `staging`, pointing the spec at `<pipeline_root>/_wheels`."""
    staged = []
    for component in pipeline.components:
        if not getattr(component, "_pip_dependencies", None):
            continue
        component._resolve_pip_dependencies(str(staging.parent))  # writes staging/<wheel>
        for key, value in list(component.exec_properties.items()):
            if isinstance(value, str) and str(staging) in value:
                staged.append(Path(value.split("@", 1)[-1]))
                component.exec_properties[key] = value.replace(str(staging), f"{pipeline_root}/{WHEELS}")
        component._pip_dependencies = [
            dep.replace(str(staging), f"{pipeline_root}/{WHEELS}") for dep in component._pip_dependencies
        ]
    return staged


def _local_paths(config: PipelineConfig) -> list[str]:
    """Config keys that name paths on this machine, which a remote cluster cannot read."""
    if not config.kubeflow.remote:
        return []
    found = {"data.path": config.data.path, "stages.push.root": str(config.stages.push.root)}
    if config.schema_file is not None:
        found["schema"] = str(config.schema_file)
    return [f"{key} is a local path ({value}): the cluster's pods must see it" for key, value in found.items()]


def copy_wheels(compiled: CompiledPipeline) -> list[str]:
    """The shell commands that upload staged wheels to the pipeline root."""
    root = compiled.spec["defaultPipelineRoot"]
    tool = "gsutil cp" if root.startswith("gs://") else "aws s3 cp"
    return [f"{tool} {wheel} {root}/{WHEELS}/{wheel.name}" for wheel in compiled.staged_wheels]
