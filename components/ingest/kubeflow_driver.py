"""Ingest's driver on Kubeflow V2: the task's `preCacheCheck` hook resolves the span, as `IngestDriver` does locally.

TFX's V2 compiler gives only `FileBasedExampleGen` subclasses a driver hook
(`tfx.orchestration.kubeflow.v2.file_based_example_gen.driver`); Ingest is its
own component, so `tfxgate compile` adds this one (pipelines/kubeflow/compile.py).
It runs `IngestDriver.resolve_exec_properties` (span and version from
`{SPAN}`/`{VERSION}` specs, span ranges, `spanned`, the input check with its
message) and writes what changed to the task's `executor_output.json`, whose
parameter values TFX's V2 entrypoint then lays over the executor's exec
properties (`kubeflow_v2_run_executor._run_executor`). Without it a spanned
`data.path` reaches the executor as a literal `{SPAN}` pattern.

    python -m tfxgate.components.ingest.kubeflow_driver --json_serialized_invocation_args '{{$}}' \
        --json_serialized_inputs_spec_args '<the component's inputDefinitions>'
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from absl import app, logging
from absl.flags import argparse_flags
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.components.example_gen import driver as example_gen_driver
from tfx.dsl.io import fileio
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils
from tfx.types import artifact_utils

from tfxgate.components.ingest.component import IngestDriver

# What the driver resolves; the executor reads them as exec properties.
RESOLVED = ("input_config", "span", "version", "input_fingerprint", "spanned", "spans_read")


def resolve(executor_input: pipeline_spec_pb2.ExecutorInput, inputs_spec=None) -> pipeline_spec_pb2.ExecutorOutput:
    """The ExecutorOutput carrying the resolved exec properties and the Examples' span and version."""
    exec_properties: dict[str, Any] = kubeflow_v2_entrypoint_utils.parse_execution_properties(
        executor_input.inputs.parameter_values, executor_input.inputs.parameters, inputs_spec
    )
    resolved = IngestDriver(None).resolve_exec_properties(dict(exec_properties), None, None)
    names: dict[int, str] = {}
    outputs = kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(executor_input.outputs.artifacts, names)
    examples = artifact_utils.get_single_instance(outputs["examples"])
    example_gen_driver.update_output_artifact(exec_properties=resolved, output_artifact=examples.mlmd_artifact)
    output = pipeline_spec_pb2.ExecutorOutput()
    for key in RESOLVED:
        value = resolved.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            output.parameter_values[key].string_value = value
        else:
            output.parameter_values[key].number_value = value
    output.artifacts["examples"].artifacts.add().CopyFrom(
        kubeflow_v2_entrypoint_utils.to_runtime_artifact(examples, names)
    )
    logging.info("Ingest driver: span %s, version %s", resolved.get("span"), resolved.get("version"))
    return output


def main(args: argparse.Namespace) -> None:
    executor_input = pipeline_spec_pb2.ExecutorInput()
    json_format.Parse(args.json_serialized_invocation_args, executor_input, ignore_unknown_fields=True)
    inputs_spec = None
    if args.json_serialized_inputs_spec_args:
        inputs_spec = pipeline_spec_pb2.ComponentInputsSpec()
        json_format.Parse(args.json_serialized_inputs_spec_args, inputs_spec, ignore_unknown_fields=True)
    output = resolve(executor_input, inputs_spec)
    path = executor_input.outputs.output_file
    fileio.makedirs(os.path.dirname(path))
    with fileio.open(path, "wb") as handle:
        handle.write(json_format.MessageToJson(output, sort_keys=True))


def _parse_flags(argv: list[str]) -> argparse.Namespace:
    parser = argparse_flags.ArgumentParser()
    parser.add_argument("--json_serialized_invocation_args", required=True)
    parser.add_argument("--json_serialized_inputs_spec_args", default="")
    namespace, _ = parser.parse_known_args(argv)  # Beam's arguments follow, as for TFX's own driver
    return namespace


if __name__ == "__main__":
    app.run(main, flags_parser=_parse_flags)
