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
import math
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

from tfxgate.components.drift.config import DriftStage
from tfxgate.pipelines.config_source import ConfigError, YamlSource, apply_overrides

__all__ = ["ConfigError", "PipelineConfig", "load_config"]

# Kubeflow V2 pipeline names: LocalDagRunner accepts more, but the V2 compile
# fails on anything else with an unreadable message, so we refuse it up front.
PIPELINE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,127}$"

# Config metric name -> TFMA/Keras metric class. All live in [0, 1] and higher
# is better, so thresholds on them must lie in [0, 1] too.
GATED_METRICS = {
    "auc": "AUC",
    "auc_precision_recall": "AUCPrecisionRecall",
    "binary_accuracy": "BinaryAccuracy",
    "precision": "Precision",
    "recall": "Recall",
}


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


class MetricThreshold(_Model):
    """Gate on one metric: absolute bounds and the allowed regression vs the baseline."""

    min: Optional[float] = Field(default=None, description="Lowest acceptable value.")
    max: Optional[float] = Field(default=None, description="Highest acceptable value.")
    max_regression: Optional[float] = Field(
        default=None, ge=0, description="Largest allowed drop vs the baseline model (absolute)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> MetricThreshold:
        for name in ("min", "max", "max_regression"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if self.min is None and self.max is None and self.max_regression is None:
            raise ValueError("set at least one of min, max, max_regression")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class EvaluationStage(_Model):
    enabled: bool = True
    slices: list[list[str]] = Field(
        default_factory=lambda: [[]],
        description="Each entry is a slice: [] is overall, [f] one feature, [f, g] a cross.",
    )
    thresholds: dict[str, MetricThreshold] = Field(default_factory=dict)
    decision_threshold: float = Field(default=0.5, gt=0, lt=1)

    @model_validator(mode="after")
    def _bounded_thresholds(self) -> EvaluationStage:
        problems = []
        for metric, gate in self.thresholds.items():
            if metric not in GATED_METRICS:
                problems.append(f"thresholds.{metric}: unknown metric (known: {', '.join(sorted(GATED_METRICS))})")
                continue
            for name in ("min", "max", "max_regression"):
                value = getattr(gate, name)
                if value is not None and not 0.0 <= value <= 1.0:
                    problems.append(f"thresholds.{metric}.{name}: {value} is outside [0, 1] for {metric}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class PushStage(_Model):
    enabled: bool = True
    destination: OutputDir = Field(description="Directory the blessed SavedModel is pushed to.")


class Stages(_Model):
    statistics: StatisticsStage = StatisticsStage()
    validation: ValidationStage = ValidationStage()
    trainer: TrainerStage
    evaluation: EvaluationStage = EvaluationStage()
    drift: DriftStage = DriftStage()
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
    problems = [(".".join(loc), source.line_of(loc), message) for loc, message in _cross_checks(config)]
    if problems:
        raise ConfigError(source.path, problems)
    return config.model_copy(update={"source": source.path})


def _cross_checks(config: PipelineConfig) -> list[tuple[list[str], str]]:
    """Checks that need more than one section: the schema parses, named features exist."""
    from tfxgate.pipelines.schema_file import SchemaFileError, feature_names, read_schema  # protobuf only

    problems: list[tuple[list[str], str]] = []
    names: Optional[set[str]] = None
    if config.schema_file is not None:
        try:
            names = feature_names(read_schema(config.schema_file))
        except SchemaFileError as err:
            problems.append((["schema"], str(err)))
    elif config.data.format == "csv":
        names = _csv_header(config.data.path)
    if names is not None:
        where = "the schema" if config.schema_file is not None else "the data's header"
        for feature in config.stages.drift.features:
            if feature not in names:
                problems.append(
                    (
                        ["stages", "drift", "features", feature],
                        f"feature {feature!r} is not in {where} ({len(names)} features)",
                    )
                )
    return problems


def _csv_header(pattern: str) -> set[str]:
    import csv

    with open(sorted(glob.glob(pattern))[0], newline="") as handle:
        return set(next(csv.reader(handle), []))


def config_to_yaml_dict(config: PipelineConfig) -> dict[str, Any]:
    """The validated config as plain data (for run records and reports)."""
    return config.model_dump(mode="json", by_alias=True, exclude={"source"})
