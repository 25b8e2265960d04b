"""The Ingest component: spec, artifact types, driver and the component class.

`Ingest` replaces CsvExampleGen (see README.md). Its driver is ExampleGen's own
file-based driver — it resolves `{SPAN}`/`{VERSION}`/date specs to the latest or
a configured span and fingerprints the input, so TFX's cache notices new data —
with tfxgate's clear errors in front of it: a missing input path and a pattern
that matches nothing are named as such before any output exists.
"""

from __future__ import annotations

import json
import os
import re
from typing import Optional, Sequence, Union

from tfx.components.example_gen import driver as example_gen_driver
from tfx.components.example_gen import utils
from tfx.dsl.components.base import base_component, executor_spec
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2, range_config_pb2
from tfx.types import standard_artifacts
from tfx.types.artifact import Artifact
from tfx.types.channel import Channel
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from tfx.utils import proto_utils

from tfxgate.components.ingest import executor

# Exec property the driver adds for a span range: {span: version} of every span read.
SPANS_READ = "spans_read"
# Exec property the driver adds: 1 when the input pattern has span specs ({SPAN}, dates), else 0.
# Recorded on the Examples so DataDrift's previous-span resolver never takes another ingestion
# of the same span as the baseline of spanned data (the pattern itself is resolved away).
SPANNED = "spanned"

_SPEC = re.compile(r"\{(SPAN(:\d+)?|VERSION(:\d+)?|YYYY|MM|DD)\}")


class Quarantine(Artifact):
    """Rows that could not be ingested: `bad_rows.jsonl` (file, row, column, reason, raw line)."""

    # Kubeflow V2 containers import a custom artifact class by its type name
    # (`module.Class`, one module segment): `tfxgate.Quarantine` resolves through
    # the facade's lazy attribute in tfxgate/__init__.py.
    TYPE_NAME = "tfxgate.Quarantine"


class IngestSpec(ComponentSpec):
    PARAMETERS = {
        # Names shared with ExampleGen so its driver resolves spans for us.
        "input_base": ExecutionParameter(type=str),
        "input_config": ExecutionParameter(type=example_gen_pb2.Input),
        "output_config": ExecutionParameter(type=example_gen_pb2.Output),
        "range_config": ExecutionParameter(type=range_config_pb2.RangeConfig, optional=True),
        "data_format": ExecutionParameter(type=str),
        # The schema's text, not its path: editing the schema must invalidate the cache.
        "schema": ExecutionParameter(type=str, optional=True),
        "max_bad_rows": ExecutionParameter(type=str),
        # Where the work runs: auto (from the Beam options), arrow (one process) or beam (sharded).
        "engine": ExecutionParameter(type=str, optional=True),
        # JSON lists: the cell texts read as missing values; the columns hashed for a row's split.
        "null_values": ExecutionParameter(type=str, optional=True),
        "split_key": ExecutionParameter(type=str, optional=True),
        # The in-process engine's CSV block size in bytes (unset: shards.SHARD_BYTES).
        "block_bytes": ExecutionParameter(type=int, optional=True),
        # 0: no stage reads the Arrow copy of the splits, so none is written (unset: written).
        "arrow_copy": ExecutionParameter(type=int, optional=True),
    }
    INPUTS = {}
    OUTPUTS = {
        "examples": ChannelParameter(type=standard_artifacts.Examples),
        "quarantine": ChannelParameter(type=Quarantine),
    }


class IngestDriver(example_gen_driver.FileBasedDriver):
    """ExampleGen's span resolution, with errors that name the path and pattern."""

    def resolve_exec_properties(self, exec_properties, pipeline_info, component_info):
        input_base = exec_properties["input_base"]
        input_config = example_gen_pb2.Input()
        proto_utils.json_to_proto(exec_properties["input_config"], input_config)
        check_input_exists(input_base, [split.pattern for split in input_config.splits])
        exec_properties[SPANNED] = int(any(_SPEC.search(split.pattern) for split in input_config.splits))
        range_config = range_config_pb2.RangeConfig()
        if exec_properties.get("range_config"):
            proto_utils.json_to_proto(exec_properties["range_config"], range_config)
        static = range_config.static_range
        if range_config.HasField("static_range") and static.start_span_number != static.end_span_number:
            first, last = static.start_span_number, static.end_span_number
            return self._resolve_span_range(exec_properties, input_config, first, last)
        try:
            return super().resolve_exec_properties(exec_properties, pipeline_info, component_info)
        except ValueError as err:
            raise ValueError(f"cannot resolve the span of {input_base}: {err}") from err

    def _prepare_output_artifacts(self, input_artifacts, output_dict, exec_properties, *args, **kwargs):
        """ExampleGen's legacy driver prepares `examples` only; `quarantine` too (InteractiveContext)."""
        prepared = super()._prepare_output_artifacts(input_artifacts, output_dict, exec_properties, *args, **kwargs)
        others = {name: channel for name, channel in output_dict.items() if name not in prepared}
        base = super(example_gen_driver.Driver, self)._prepare_output_artifacts
        prepared.update(base(input_artifacts, others, exec_properties, *args, **kwargs))
        return prepared

    def _resolve_span_range(self, exec_properties, input_config, first: int, last: int):
        """Every span of `first`..`last`, each at its latest version, as one input split per span."""
        splits, fingerprints, resolved = [], [], {}
        for span in range(first, last + 1):
            one = dict(exec_properties)
            one["range_config"] = proto_utils.proto_to_json(_static_range(span, span))
            try:
                one = super().resolve_exec_properties(one, None, None)
            except ValueError as err:
                raise ValueError(
                    f"span range {first}..{last} of {exec_properties['input_base']}: span {span} cannot be read "
                    f"({err}); every span of the range must exist"
                ) from err
            for split in proto_utils.json_to_proto(one["input_config"], example_gen_pb2.Input()).splits:
                splits.append(example_gen_pb2.Input.Split(name=f"span_{span}_{split.name}", pattern=split.pattern))
            fingerprints.append(f"span {span}: {one[utils.FINGERPRINT_PROPERTY_NAME]}")
            resolved[span] = one[utils.VERSION_PROPERTY_NAME]
        exec_properties["input_config"] = proto_utils.proto_to_json(example_gen_pb2.Input(splits=splits))
        exec_properties[utils.SPAN_PROPERTY_NAME] = last
        exec_properties[utils.VERSION_PROPERTY_NAME] = resolved[last]
        exec_properties[utils.FINGERPRINT_PROPERTY_NAME] = "\n".join(fingerprints)
        exec_properties[SPANS_READ] = json.dumps(resolved)
        return exec_properties


def check_input_exists(input_base: str, patterns: list[str]) -> None:
    """Raises FileNotFoundError naming the path when there is nothing to read."""
    if not fileio.exists(input_base):
        raise FileNotFoundError(f"input path does not exist: {input_base}")
    for pattern in patterns:
        full = os.path.join(input_base, pattern)
        if not fileio.glob(_SPEC.sub("*", full)):
            kind = "span pattern" if _SPEC.search(pattern) else "input pattern"
            raise FileNotFoundError(f"{kind} matches nothing: {full}")


def _static_range(first: int, last: int) -> range_config_pb2.RangeConfig:
    return range_config_pb2.RangeConfig(
        static_range=range_config_pb2.StaticRange(start_span_number=first, end_span_number=last)
    )


class Ingest(base_component.BaseComponent):
    """Arrow-native ingestion of CSV/Parquet into hash-split tf.Examples, with a quarantine."""

    SPEC_CLASS = IngestSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)
    DRIVER_CLASS = IngestDriver

    def __init__(
        self,
        *,
        input_base: str,
        input_pattern: str,
        splits: dict[str, int],
        data_format: str = "csv",
        key: Optional[str] = None,
        span: Union[str, int] = "latest",
        span_range: Optional[tuple[int, int]] = None,
        schema_text: Optional[str] = None,
        max_bad_rows: Union[int, float] = 0,
        engine: str = "auto",
        null_values: Optional[Sequence[str]] = None,
        split_key: Optional[Sequence[str]] = None,
        block_bytes: Optional[int] = None,
        arrow_copy: bool = True,
    ):
        """Args mirror the config's `data` section (see README.md)."""
        split_config = example_gen_pb2.SplitConfig(
            splits=[example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=n) for name, n in splits.items()]
        )
        if key:
            split_config.partition_feature_name = key
        range_config = None
        if span_range is not None:
            range_config = _static_range(*span_range)
        elif span != "latest" and _SPEC.search(input_pattern):
            range_config = _static_range(span, span)
        super().__init__(
            IngestSpec(
                input_base=input_base,
                input_config=example_gen_pb2.Input(
                    splits=[example_gen_pb2.Input.Split(name="single_split", pattern=input_pattern)]
                ),
                output_config=example_gen_pb2.Output(split_config=split_config),
                range_config=range_config,
                data_format=data_format,
                schema=schema_text,
                max_bad_rows=repr(max_bad_rows),
                engine=engine,
                null_values=json.dumps(list(null_values)) if null_values is not None else None,
                split_key=json.dumps(sorted(split_key)) if split_key else None,
                # Defaults stay unset, so configs that do not use them keep their cache keys.
                block_bytes=block_bytes,
                arrow_copy=None if arrow_copy else 0,
                examples=Channel(type=standard_artifacts.Examples),
                quarantine=Channel(type=Quarantine),
            )
        )
