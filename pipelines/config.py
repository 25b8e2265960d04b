"""The typed model of a tfxgate pipeline YAML, validated on load.

Everything downstream (the builder, the runners, the CLI) reads this model and
never the raw YAML. Loading collects *all* problems at once and reports each with
its key path and YAML line (`stages.trainer.train_steps (line 31): ...`), so a
user fixes a config in one pass and nothing runs on a config that is wrong.

Relative paths are resolved against the directory of the YAML file, so a config
means the same thing whatever directory `tfxgate` is started from. Paths of the
form `package://DIST/sub/path` point into an installed Python package (the demo
reads the Chicago taxi sample that ships inside the `tfx` wheel).

This module imports no TensorFlow/TFX: `tfxgate check` stays fast.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tfxgate.components.slice_eval.settings import EvaluationStage, check_slice_features
from tfxgate.pipelines.config_source import ConfigError, YamlSource, apply_overrides

__all__ = ["ConfigError", "PipelineConfig", "load_config"]

# Kubeflow V2 pipeline names: LocalDagRunner accepts more, but the V2 compile
# fails on anything else with an unreadable message, so we refuse it up front.
PIPELINE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,127}$"


def _package_path(spec: str) -> Path:
    """Resolves `package://dist/sub/path` to a file inside an installed package."""
    rest = spec[len("package://") :]
    package, _, sub = rest.partition("/")
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise ValueError(f"package {package!r} is not installed (from {spec!r})")
    return Path(list(found.submodule_search_locations)[0]) / sub


def _resolve(value: str, info: ValidationInfo) -> Path:
    if value.startswith("package://"):
        return _package_path(value)
    path = Path(os.path.expanduser(value))
    if not path.is_absolute():
        base = (info.context or {}).get("base_dir", Path.cwd())
        path = Path(base) / path
    return Path(os.path.normpath(path))


def _existing_file(value: str, info: ValidationInfo) -> Path:
    path = _resolve(value, info)
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    return path


def _output_dir(value: str, info: ValidationInfo) -> Path:
    return _resolve(value, info)


ExistingFile = Annotated[str, AfterValidator(_existing_file)]
OutputDir = Annotated[str, AfterValidator(_output_dir)]


class _Model(BaseModel):
    """Base for every section: unknown keys are errors, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PipelineSection(_Model):
    name: str = Field(pattern=PIPELINE_NAME_PATTERN, description="Kubeflow-safe pipeline name.")
    root: OutputDir = Field(description="Directory for artifacts, metadata and logs of this pipeline.")
    enable_cache: bool = True


class DataSection(_Model):
    format: Literal["csv", "parquet"] = "csv"
    path: str = Field(description="A file, a directory, or a glob of input files.")
    label: str = Field(description="Label key the evaluation reads (may be derived by the trainer).")
    key: Optional[str] = Field(default=None, description="Column identifying a row, if any.")
    splits: dict[str, int] = Field(
        default_factory=lambda: {"train": 2, "eval": 1},
        description="Split name -> hash buckets; must contain 'train' and 'eval'.",
    )

    @field_validator("path")
    @classmethod
    def _existing_input(cls, value: str, info: ValidationInfo) -> str:
        """Resolves the path and insists it names at least one input file."""
        path = _resolve(value, info)
        fmt = info.data.get("format", "csv")
        if path.is_dir():
            path = path / f"*.{fmt}"
        elif not any(ch in path.name for ch in "*?[") and not path.exists():
            raise ValueError(f"no such file or directory: {path}")
        if not glob.glob(str(path)):
            raise ValueError(f"no {fmt} file matches {path}")
        return str(path)

    @property
    def input_base(self) -> Path:
        """The directory TFX's file-based ExampleGen reads from."""
        return Path(self.path).parent

    @property
    def input_pattern(self) -> str:
        """The file pattern inside `input_base` (a name or a glob)."""
        return Path(self.path).name

    @field_validator("splits")
    @classmethod
    def _check_splits(cls, splits: dict[str, int]) -> dict[str, int]:
        missing = {"train", "eval"} - set(splits)
        if missing:
            raise ValueError(f"must name the splits 'train' and 'eval' (missing: {sorted(missing)})")
        bad = [name for name, buckets in splits.items() if buckets < 1]
        if bad:
            raise ValueError(f"hash buckets must be >= 1 (split {bad[0]!r})")
        return splits


class StatisticsStage(_Model):
    enabled: bool = True


class ValidationStage(_Model):
    enabled: bool = True


class TrainerStage(_Model):
    module_file: ExistingFile = Field(description="Python module with a TFX `run_fn`; keep it alone in its folder.")
    train_steps: int = Field(gt=0)
    eval_steps: int = Field(gt=0)
    hyperparameters: dict[str, Union[int, float, str, bool, list[int], list[str]]] = Field(default_factory=dict)


class PushStage(_Model):
    enabled: bool = True
    destination: OutputDir = Field(description="Directory the blessed SavedModel is pushed to.")


class Stages(_Model):
    statistics: StatisticsStage = StatisticsStage()
    validation: ValidationStage = ValidationStage()
    trainer: TrainerStage
    evaluation: EvaluationStage = EvaluationStage()
    push: PushStage

    @model_validator(mode="after")
    def _push_needs_evaluation(self) -> Stages:
        # Without an Evaluator the stock Pusher pushes unconditionally: refuse it.
        if self.push.enabled and not self.evaluation.enabled:
            raise ValueError("push.enabled requires evaluation.enabled: a model is only pushed when blessed")
        return self


class BeamSection(_Model):
    runner: Literal["direct"] = "direct"
    direct_running_mode: Literal["in_memory", "multi_threading", "multi_processing"] = "in_memory"
    direct_num_workers: int = Field(default=1, ge=0, description="0 means one per CPU core.")
    options: list[str] = Field(default_factory=list, description="Extra Beam pipeline options, passed through.")

    @field_validator("options")
    @classmethod
    def _flags(cls, options: list[str]) -> list[str]:
        for option in options:
            if not re.match(r"^--[A-Za-z_][\w-]*(=.*)?$", option):
                raise ValueError(f"{option!r} is not a Beam option (expected --name=value)")
        return options

    def pipeline_args(self) -> list[str]:
        return [
            f"--direct_running_mode={self.direct_running_mode}",
            f"--direct_num_workers={self.direct_num_workers}",
            *self.options,
        ]


class RunnerSection(_Model):
    kind: Literal["local"] = "local"
    beam: BeamSection = BeamSection()


class SqliteMetadata(_Model):
    kind: Literal["sqlite"] = "sqlite"
    path: str = Field(default="metadata.sqlite", description="Relative paths are under pipeline.root.")


class PipelineConfig(_Model):
    """The whole YAML file."""

    pipeline: PipelineSection
    data: DataSection
    schema_file: Optional[ExistingFile] = Field(
        default=None, alias="schema", description="Curated schema.pbtxt; inferred when absent."
    )
    stages: Stages
    runner: RunnerSection = RunnerSection()
    metadata: SqliteMetadata = SqliteMetadata()

    # Where the config came from, for messages and relative paths.
    source: Optional[Path] = Field(default=None, exclude=True)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def metadata_path(self) -> Path:
        path = Path(self.metadata.path)
        return path if path.is_absolute() else self.pipeline.root / path


def load_config(path: Union[str, Path], *, overrides: Optional[list[str]] = None) -> PipelineConfig:
    """Loads and validates a pipeline YAML.

    Args:
      path: the YAML file.
      overrides: `key.path=value` strings (the CLI's `--set`), applied before
        validation; values are parsed as YAML scalars (`3`, `true`, `[a, b]`).

    Raises:
      ConfigError: listing every problem with its key path and line.
    """
    source = YamlSource.read(Path(path))
    data = apply_overrides(source, overrides or [])
    try:
        config = PipelineConfig.model_validate(data, context={"base_dir": source.path.parent.resolve()})
    except ValidationError as err:
        raise ConfigError.from_validation(source, err, overridden=set(overrides or [])) from None
    _check_features(config, source)
    return config.model_copy(update={"source": source.path})


def known_features(config: PipelineConfig) -> tuple[set[str], str]:
    """Feature names of the curated schema, else of the data's first file (header / Parquet schema)."""
    if config.schema_file is not None:
        from google.protobuf import text_format
        from tensorflow_metadata.proto.v0 import schema_pb2

        schema = text_format.Parse(Path(config.schema_file).read_text(), schema_pb2.Schema())
        return {f.name for f in schema.feature}, f"the schema {config.schema_file}"
    first = sorted(glob.glob(config.data.path))[0]
    if config.data.format == "parquet":
        import pyarrow.parquet as pq

        return set(pq.read_schema(first).names), f"the data {first}"
    with open(first, encoding="utf-8") as handle:
        header = handle.readline().strip()
    return {name.strip().strip('"') for name in header.split(",")}, f"the header of {first}"


def _check_features(config: PipelineConfig, source: YamlSource) -> None:
    """Problems that need the whole config: slices on features the data does not have."""
    stage = config.stages.evaluation
    if not stage.enabled:
        return
    known, where = known_features(config)
    problems = [
        (".".join(loc), source.line_of(loc), msg) for loc, msg in check_slice_features(stage, known, source=where)
    ]
    if problems:
        raise ConfigError(source.path, problems)


def config_to_yaml_dict(config: PipelineConfig) -> dict[str, Any]:
    """The validated config as plain data (for run records and reports)."""
    return config.model_dump(mode="json", by_alias=True, exclude={"source"})
