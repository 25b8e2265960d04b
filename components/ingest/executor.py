"""The Ingest executor: unpack artifacts, call the core, write splits and properties.

All decisions live in `ingestion.py`; this module only moves bytes between TFX's
file system and the core. It raises before writing anything when the input is
unusable or `max_bad_rows` is exceeded, and TFX publishes no output of a failed
execution.
"""

from __future__ import annotations

import ast
import json
import os
from typing import Any

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_executor
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.utils import proto_utils

from tfxgate.components.ingest import examples as example_files
from tfxgate.components.ingest.arrow_csv import InputError
from tfxgate.components.ingest.columns import rules_from_schema
from tfxgate.components.ingest.ingestion import ingest
from tfxgate.components.ingest.quarantine import QUARANTINE_FILE, to_jsonl


class Executor(base_executor.BaseExecutor):
    """Reads the resolved span's files and writes tf.Example splits and the quarantine."""

    def Do(self, input_dict: dict[str, list], output_dict: dict[str, list], exec_properties: dict[str, Any]) -> None:
        examples = artifact_utils.get_single_instance(output_dict["examples"])
        quarantine = artifact_utils.get_single_instance(output_dict["quarantine"])
        input_config = proto_utils.json_to_proto(exec_properties["input_config"], example_gen_pb2.Input())
        output_config = proto_utils.json_to_proto(exec_properties["output_config"], example_gen_pb2.Output())
        split_config = output_config.split_config
        schema_text = exec_properties.get("schema")
        rules = rules_from_schema(text_format.Parse(schema_text, schema_pb2.Schema())) if schema_text else None

        paths = input_files(exec_properties["input_base"], [s.pattern for s in input_config.splits])
        result = ingest(
            [(path, _read(path)) for path in paths],
            data_format=exec_properties["data_format"],
            splits={s.name: s.hash_buckets for s in split_config.splits},
            rules=rules,
            key=split_config.partition_feature_name or None,
            max_bad_rows=ast.literal_eval(exec_properties["max_bad_rows"]),
        )

        examples.split_names = artifact_utils.encode_split_names(result.split_names)
        for position, name in enumerate(result.split_names):
            columns, length = result.split_columns(position)
            batch = example_files.feature_lists(columns, result.kinds, length=length)
            example_files.write_split(
                artifact_utils.get_split_uri([examples], name), example_files.serialize_batch(batch)
            )
            example_files.write_arrow_copy(examples.uri, name, batch)
        # Orchestrators differ on whether output directories exist (the local
        # launcher makes them, Kubeflow's container entrypoint does not).
        fileio.makedirs(quarantine.uri)
        with fileio.open(os.path.join(quarantine.uri, QUARANTINE_FILE), "w") as handle:
            handle.write(to_jsonl(result.bad_rows))

        examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
        examples_utils.set_file_format(examples, "tfrecords_gzip")
        examples.span = int(exec_properties.get("span") or 0)
        if exec_properties.get("version") is not None:
            examples.version = int(exec_properties["version"])
        properties = {
            "rows_per_split": json.dumps(result.rows_per_split()),
            "rows_read": result.rows_read,
            "bad_rows": len(result.bad_rows),
            "input_files_sha256": json.dumps(result.file_sha256),
            "inferred_types": json.dumps({n: result.kinds[n] for n in result.inferred}),
        }
        for artifact in (examples, quarantine):
            for name, value in properties.items():
                _set(artifact, name, value)


def _set(artifact, name: str, value) -> None:
    if isinstance(value, int):
        artifact.set_int_custom_property(name, value)
    else:
        artifact.set_string_custom_property(name, value)


def input_files(input_base: str, patterns: list[str]) -> list[str]:
    """The files the resolved patterns name, sorted (directories skipped).

    Raises:
      InputError: when none is left (the input changed after the driver resolved it).
    """
    paths = sorted(
        path
        for pattern in patterns
        for path in fileio.glob(os.path.join(input_base, pattern))
        if not fileio.isdir(path)
    )
    if not paths:
        raise InputError(f"no input file matches {[os.path.join(input_base, p) for p in patterns]}")
    return paths


def _read(path: str) -> bytes:
    with fileio.open(path, "rb") as handle:
        return handle.read()
