"""Runs a compiled KFP v2 pipeline spec on this machine, task by task, the way a cluster would.

No Kubernetes here, so this stands in for the KFP backend: for each task of the
root DAG, in dependency order, it builds the `ExecutorInput` the backend would
(constant parameters from the spec, input artifacts from upstream outputs,
output artifacts under a local pipeline root), substitutes it for `{{$}}` in
the container's arguments and runs the container's command as a subprocess
(`python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor`
...), running the `preCacheCheck` lifecycle hook first where there is one
(FileBasedExampleGen's driver). The outputs passed downstream are those each
executor wrote to its `executor_output.json`, as on the cluster.

Resolver tasks are ML Metadata queries the backend answers; on a fresh pipeline
root nothing has been blessed yet, so they resolve to no artifacts. That is the
only part of the spec not executed as written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import yaml

INPUT_PLACEHOLDER = "{{$}}"


@dataclass
class LocalKfpRun:
    """What each task produced: task -> output key -> RuntimeArtifact dicts."""

    root: Path
    outputs: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def artifact(self, task: str, key: str) -> dict[str, Any]:
        [single] = self.outputs[task][key]
        return single


def run_spec(spec_path: Path, root: Path, *, log_dir: Path, timeout: int = 600) -> LocalKfpRun:
    """Executes every task of a compiled PipelineSpec YAML under `root`.

    Raises:
      RuntimeError: naming the task whose container exited non-zero, with its log file.
    """
    spec = next(yaml.safe_load_all(spec_path.read_text()))
    tasks = spec["root"]["dag"]["tasks"]
    run = LocalKfpRun(root=root)
    graph = {name: set(task.get("dependentTasks", [])) | _producers(task) for name, task in tasks.items()}
    for name in TopologicalSorter(graph).static_order():
        task = tasks[name]
        component = spec["components"][task["componentRef"]["name"]]
        executor = spec["deploymentSpec"]["executors"][component["executorLabel"]]
        run.order.append(name)
        if "resolver" in executor:
            run.outputs[name] = {key: [] for key in component.get("outputDefinitions", {}).get("artifacts", {})}
            continue
        executor_input = _executor_input(name, task, component, run)
        container = executor["container"]
        log = log_dir / f"{name}.log"
        hook = container.get("lifecycle", {}).get("preCacheCheck")
        if hook:
            _run_container(name, hook["command"], hook["args"], executor_input, log=log, timeout=timeout)
        _run_container(name, container["command"], container["args"], executor_input, log=log, timeout=timeout)
        run.outputs[name] = _published_outputs(executor_input)
    return run


def _producers(task: dict) -> set[str]:
    artifacts = task.get("inputs", {}).get("artifacts", {}).values()
    return {source["taskOutputArtifact"]["producerTask"] for source in artifacts if "taskOutputArtifact" in source}


def _executor_input(name: str, task: dict, component: dict, run: LocalKfpRun) -> dict[str, Any]:
    parameters = {}
    for key, source in task.get("inputs", {}).get("parameters", {}).items():
        if "runtimeValue" not in source:
            raise NotImplementedError(f"task {name}: parameter {key} is not a constant: {source}")
        parameters[key] = source["runtimeValue"]["constant"]
    artifacts = {}
    for key, source in task.get("inputs", {}).get("artifacts", {}).items():
        producer = source["taskOutputArtifact"]
        artifacts[key] = {"artifacts": run.outputs[producer["producerTask"]][producer["outputArtifactKey"]]}
    task_root = run.root / name
    outputs = {}
    for key, definition in component.get("outputDefinitions", {}).get("artifacts", {}).items():
        outputs[key] = {
            "artifacts": [
                {
                    "name": f"local/artifacts/{name}-{key}",
                    "type": definition["artifactType"],
                    "uri": str(task_root / key),
                    "metadata": {},
                }
            ]
        }
    return {
        "inputs": {"parameterValues": parameters, "artifacts": artifacts},
        "outputs": {"artifacts": outputs, "outputFile": str(task_root / "executor_output.json")},
    }


def _run_container(name: str, command: list[str], args: list[str], executor_input: dict, *, log: Path, timeout: int):
    serialized = json.dumps(executor_input)
    # The image's `python` is this environment's interpreter here.
    argv = [sys.executable if command[0] == "python" else command[0], *command[1:]]
    argv += [serialized if arg == INPUT_PLACEHOLDER else arg for arg in args]
    with log.open("a") as out:
        proc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, env=dict(os.environ))
    if proc.returncode != 0:
        raise RuntimeError(f"task {name}: container exited {proc.returncode}; see {log}:\n{log.read_text()[-3000:]}")


def _published_outputs(executor_input: dict) -> dict[str, list[dict[str, Any]]]:
    """The executor's reported output artifacts, typed by the output definitions as the backend records them."""
    outputs = {key: value["artifacts"] for key, value in executor_input["outputs"]["artifacts"].items()}
    output_file = Path(executor_input["outputs"]["outputFile"])
    if output_file.exists():
        reported = json.loads(output_file.read_text()).get("artifacts", {})
        for key, value in reported.items():
            [allocated] = outputs[key]
            outputs[key] = [{**allocated, **artifact, "type": allocated["type"]} for artifact in value["artifacts"]]
    return outputs
