"""Runs a compiled KFP v2 pipeline spec on this machine, task by task, the way a cluster would.

No Kubernetes here, so this stands in for the KFP backend: for each task of the
root DAG, in dependency order, it builds the `ExecutorInput` the backend would
(constant parameters from the spec, with KFP's run placeholders substituted,
input artifacts from upstream outputs, output artifacts under
`<pipeline root>/<run>/<task>/`), substitutes it for `{{$}}` in the container's
arguments and runs the container's command as a subprocess with the
interpreter of "the image" (`python -m
tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor` ...), running
the `preCacheCheck` lifecycle hook first where there is one (Ingest's driver).
The outputs passed downstream are those each executor wrote to its
`executor_output.json`, as on the cluster.

The pipeline root is a URI (`gs://...`, `s3://...`) or a local folder; it is
only ever joined with `/`, never with `pathlib`. The executor's `outputFile`
is a file of the container's local disk on a cluster, so here it lies under a
local folder (`scratch`) apart from the artifact URIs.

Resolver tasks are ML Metadata queries the backend answers. `ArtifactRecords`
stands in for the backend's store: every output artifact of earlier runs (and
of this one so far) with its metadata, in creation order. A resolver's filter
is answered as Vertex AI's artifact filter (AIP-160) would: placeholders for the
task's input artifacts substituted, clauses joined by AND, `schema_title`,
`state`, `uri` and `metadata.<key>.number_value` compared with = != < > <= >=,
and the newest match handed on (none when nothing matches).
"""

from __future__ import annotations

import json
import operator
import re
import subprocess
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any, Optional

import yaml

INPUT_PLACEHOLDER = "{{$}}"
RUN_PLACEHOLDERS = ("{{$.pipeline_job_name}}", "{{$.pipeline_job_uuid}}")
_INPUT_REF = re.compile(r"\{\{\$\.inputs\.artifacts\['(\w+)'\]\.(uri|metadata\['(\w+)'\])\}\}")
_CLAUSE = re.compile(r"^(schema_title|state|uri|metadata\.(\w+)\.number_value)\s*(!=|<=|>=|=|<|>)\s*(.*)$")
_COMPARE = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


@dataclass
class ArtifactRecords:
    """The backend's record of every artifact its tasks produced (the pipeline's context), oldest first."""

    artifacts: list[dict[str, Any]] = field(default_factory=list)

    def add(self, artifact: dict[str, Any]) -> None:
        self.artifacts.append(artifact)

    def latest(self, query: str, inputs: dict[str, list[dict]]) -> list[dict[str, Any]]:
        """The newest artifact matching a resolver's filter, as a one-item list (or empty)."""
        clauses = [_clause(part.strip()) for part in _substitute(query, inputs).split(" AND ")]
        matches = [a for a in self.artifacts if all(_holds(a, *clause) for clause in clauses)]
        return matches[-1:]


def _substitute(query: str, inputs: dict[str, list[dict]]) -> str:
    def value(match: re.Match) -> str:
        artifacts = inputs.get(match.group(1)) or []
        if not artifacts:
            return ""
        if match.group(2) == "uri":
            return artifacts[0]["uri"]
        found = artifacts[0].get("metadata", {}).get(match.group(3), "")
        return str(int(found)) if isinstance(found, float) and found.is_integer() else str(found)

    return _INPUT_REF.sub(value, query)


def _clause(text: str) -> tuple[str, Optional[str], str, str]:
    match = _CLAUSE.match(text)
    if not match:
        raise NotImplementedError(f"resolver filter clause not understood: {text!r}")
    return match.group(1), match.group(2), match.group(3), match.group(4).strip()


def _holds(artifact: dict, field_name: str, key: Optional[str], op: str, literal: str) -> bool:
    if key is not None:  # metadata.<key>.number_value
        actual = artifact.get("metadata", {}).get(key)
        if actual is None or literal == "":
            return False
        return _COMPARE[op](float(actual), float(literal))
    actual = {"schema_title": _title(artifact), "state": "LIVE", "uri": artifact["uri"]}[field_name]
    return _COMPARE[op](actual, literal.strip('"'))


def _title(artifact: dict) -> str:
    kind = artifact["type"]
    if "schemaTitle" in kind:
        return kind["schemaTitle"]
    return re.search(r"title: (\S+)", kind["instanceSchema"]).group(1)


@dataclass
class LocalKfpRun:
    """What each task produced: task -> output key -> RuntimeArtifact dicts."""

    name: str
    pipeline_root: str  # a URI or a local folder
    scratch: Path  # the containers' local disk: executor output files
    outputs: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    @property
    def root(self) -> str:
        """Where this run's artifacts go: `<pipeline root>/<run>`."""
        return join(self.pipeline_root, self.name)

    def artifact(self, task: str, key: str) -> dict[str, Any]:
        [single] = self.outputs[task][key]
        return single


@dataclass
class Image:
    """Where a task's container runs: the interpreter of "the image", its environment and working directory."""

    python: Path
    env: dict[str, str]
    cwd: Path


def join(root: str, *parts: str) -> str:
    """`root/part/...` for a URI or a local path (`pathlib` would turn `gs://b` into `gs:/b`)."""
    return "/".join([str(root).rstrip("/"), *parts])


def run_spec(
    spec_path: Path,
    root: str,
    *,
    run_name: str,
    image: Image,
    records: ArtifactRecords,
    log_dir: Path,
    timeout: int = 600,
) -> LocalKfpRun:
    """Executes every task of a compiled PipelineSpec YAML as run `run_name` under the pipeline root `root`.

    `root` is a URI or a local folder; executor output files go to `log_dir/<run_name>/` (the containers' disk).

    Raises:
      RuntimeError: naming the task whose container exited non-zero, with its log file.
    """
    spec = next(yaml.safe_load_all(spec_path.read_text()))
    tasks = spec["root"]["dag"]["tasks"]
    run = LocalKfpRun(name=run_name, pipeline_root=str(root), scratch=log_dir / run_name)
    graph = {name: set(task.get("dependentTasks", [])) | _producers(task) for name, task in tasks.items()}
    for name in TopologicalSorter(graph).static_order():
        task = tasks[name]
        component = spec["components"][task["componentRef"]["name"]]
        executor = spec["deploymentSpec"]["executors"][component["executorLabel"]]
        run.order.append(name)
        if "resolver" in executor:
            inputs = _input_artifacts(task, run)
            queries = executor["resolver"]["outputArtifactQueries"]
            run.outputs[name] = {key: records.latest(query["filter"], inputs) for key, query in queries.items()}
            continue
        executor_input = _executor_input(name, task, component, run)
        container = executor["container"]
        log = log_dir / f"{run_name}-{name}.log"
        hook = container.get("lifecycle", {}).get("preCacheCheck")
        if hook:
            _run_container(name, hook["command"], hook["args"], executor_input, image=image, log=log, timeout=timeout)
        _run_container(
            name, container["command"], container["args"], executor_input, image=image, log=log, timeout=timeout
        )
        run.outputs[name] = _published_outputs(executor_input)
        for artifacts in run.outputs[name].values():
            for artifact in artifacts:
                records.add(artifact)
    return run


def rerun_task(
    spec_path: Path,
    run: LocalKfpRun,
    task: str,
    *,
    run_name: str,
    parameters: dict[str, Any],
    image: Image,
    log_dir: Path,
    timeout: int = 600,
) -> dict[str, list[dict[str, Any]]]:
    """Executes one container task of `run` again as run `run_name`, with its inputs from `run`; returns its outputs.

    `parameters` replace constants of the task's parameters (e.g. its settings with another push root),
    as a second compile with other values would; everything else is what `run_spec` gives the task.
    Nothing is added to any `ArtifactRecords`: no later task reads these outputs.
    """
    spec = next(yaml.safe_load_all(spec_path.read_text()))
    found = spec["root"]["dag"]["tasks"][task]
    component = spec["components"][found["componentRef"]["name"]]
    container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
    again = LocalKfpRun(name=run_name, pipeline_root=run.pipeline_root, scratch=log_dir / run_name, outputs=run.outputs)
    executor_input = _executor_input(task, found, component, again)
    unknown = set(parameters) - set(executor_input["inputs"]["parameterValues"])
    if unknown:
        raise KeyError(f"task {task} has no parameters {sorted(unknown)}")
    executor_input["inputs"]["parameterValues"].update(parameters)
    log = log_dir / f"{run_name}-{task}.log"
    _run_container(task, container["command"], container["args"], executor_input, image=image, log=log, timeout=timeout)
    return _published_outputs(executor_input)


def _producers(task: dict) -> set[str]:
    artifacts = task.get("inputs", {}).get("artifacts", {}).values()
    return {source["taskOutputArtifact"]["producerTask"] for source in artifacts if "taskOutputArtifact" in source}


def _input_artifacts(task: dict, run: LocalKfpRun) -> dict[str, list[dict]]:
    inputs = {}
    for key, source in task.get("inputs", {}).get("artifacts", {}).items():
        producer = source["taskOutputArtifact"]
        inputs[key] = run.outputs[producer["producerTask"]][producer["outputArtifactKey"]]
    return inputs


def _executor_input(name: str, task: dict, component: dict, run: LocalKfpRun) -> dict[str, Any]:
    parameters = {}
    for key, source in task.get("inputs", {}).get("parameters", {}).items():
        if "runtimeValue" not in source:
            raise NotImplementedError(f"task {name}: parameter {key} is not a constant: {source}")
        parameters[key] = _with_run(source["runtimeValue"]["constant"], run.name)
    artifacts = {key: {"artifacts": artifacts} for key, artifacts in _input_artifacts(task, run).items()}
    task_root = join(run.root, name)
    output_file = run.scratch / name / "executor_output.json"
    output_file.parent.mkdir(parents=True, exist_ok=True)
    outputs = {}
    for key, definition in component.get("outputDefinitions", {}).get("artifacts", {}).items():
        outputs[key] = {
            "artifacts": [
                {
                    "name": f"local/artifacts/{run.name}-{name}-{key}",
                    "type": definition["artifactType"],
                    "uri": join(task_root, key),
                    "metadata": {},
                }
            ]
        }
    return {
        "inputs": {"parameterValues": parameters, "artifacts": artifacts},
        "outputs": {"artifacts": outputs, "outputFile": str(output_file)},
    }


def _with_run(value: Any, run_name: str) -> Any:
    """A constant with KFP's run placeholders substituted, as the backend does."""
    if isinstance(value, str):
        for placeholder in RUN_PLACEHOLDERS:
            value = value.replace(placeholder, run_name)
    return value


def _run_container(name: str, command, args, executor_input: dict, *, image: Image, log: Path, timeout: int):
    serialized = json.dumps(executor_input)
    argv = [str(image.python) if command[0] == "python" else command[0], *command[1:]]
    argv += [serialized if arg == INPUT_PLACEHOLDER else arg for arg in args]
    with log.open("a") as out:
        proc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, env=image.env, cwd=image.cwd)
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
