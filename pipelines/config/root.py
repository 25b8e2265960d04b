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

import datetime
import glob
import json
import re
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tfxgate.alerts.settings import AlertsSection
from tfxgate.components.drift.config import DriftStage
from tfxgate.components.governed_push.settings import PushStage, check_destinations
from tfxgate.components.ingest.null_values import DEFAULT_NULL_VALUES
from tfxgate.components.slice_eval.label_kinds import LabelKind
from tfxgate.components.slice_eval.settings import EvaluationStage, check_metrics, check_slice_features
from tfxgate.components.validate.config import ValidationStage, check_environment
from tfxgate.governance.target import Destination, GovernedPipeline
from tfxgate.mlmd.settings import MetadataSection, SqliteMetadata
from tfxgate.monitoring.settings import MonitoringSection
from tfxgate.pipelines.config import label as label_config
from tfxgate.pipelines.config.beam import BeamSection
from tfxgate.pipelines.config.inputs import (
    SPAN_SPEC_PATTERN,
    InputProblem,
    data_files,
    data_problems,
    entry_point_problem,
    header,
    is_remote,
    required_columns,
    trainer_problem,
)
from tfxgate.pipelines.config.source import ConfigError, YamlSource, apply_overrides, empty_values, place
from tfxgate.pipelines.config.trainer import Accelerator, Strategy, distribution_config
from tfxgate.pipelines.config.transform import TransformStage
from tfxgate.pipelines.config.tune import TuneStage
from tfxgate.pipelines.kubeflow.settings import KubeflowSection, resource_problems
from tfxgate.pipelines.stage_ids import container_stages
from tfxgate.settings import ExistingFile, OutputDir, Section, resolve_path
from tfxgate.storage import filesystem

_Model = Section  # every section: unknown keys are errors, never silently dropped

__all__ = ["ConfigError", "PipelineConfig", "load_config"]

# Kubeflow V2 pipeline names: LocalDagRunner accepts more, but the V2 compile
# fails on anything else with an unreadable message, so we refuse it up front.
PIPELINE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,127}$"


def _is_pattern(part: str) -> bool:
    return any(ch in part for ch in "*?[") or re.search(SPAN_SPEC_PATTERN, part) is not None


class PipelineSection(_Model):
    name: str = Field(pattern=PIPELINE_NAME_PATTERN, description="Kubeflow-safe pipeline name.")
    root: OutputDir = Field(description="Directory for artifacts, metadata and logs of this pipeline.")
    enable_cache: bool = True


class SpanRange(_Model):
    """Spans `start`..`end` (both included), read together into one Examples artifact.

    Span numbers, or dates (`2026-11-20`) when the path uses {YYYY}/{MM}/{DD}:
    ExampleGen numbers a date span by its days since 1970-01-01.
    """

    start: Union[Annotated[int, Field(ge=0)], datetime.date]
    end: Union[Annotated[int, Field(ge=0)], datetime.date]

    @model_validator(mode="after")
    def _ordered(self) -> SpanRange:
        if isinstance(self.start, datetime.date) != isinstance(self.end, datetime.date):
            raise ValueError("start and end must both be span numbers or both be dates")
        if self.numbers()[0] > self.numbers()[1]:
            raise ValueError(f"start ({self.start}) is after end ({self.end})")
        return self

    def numbers(self) -> tuple[int, int]:
        """(first, last) span number."""
        return _span_number(self.start), _span_number(self.end)


def _span_number(value: Union[int, datetime.date]) -> int:
    if isinstance(value, datetime.date):
        return (value - datetime.date(1970, 1, 1)).days
    return value


class DataSection(_Model):
    format: Literal["csv", "parquet"] = "csv"
    path: str = Field(description="A file, a directory, or a glob of input files.")
    label: str = Field(description="Label key the evaluation reads (may be derived by the trainer).")
    label_kind: Optional[Literal["binary", "multiclass", "regression"]] = Field(
        default=None,
        description="binary (0/1), multiclass (class ids 0..n-1) or regression (numbers). Default: inferred from "
        "the first rows of the data (binary when the trainer derives the label).",
    )
    num_classes: Optional[int] = Field(
        default=None, ge=2, description="Multiclass: the number of classes. Default: counted in the data."
    )
    key: Optional[str] = Field(
        default=None,
        description="Split by this one column's hash (CsvExampleGen's partition_feature_name); "
        "exclusive with split_key.",
    )
    split_key: Optional[list[str]] = Field(
        default=None,
        min_length=1,
        description="Columns whose cells are hashed for a row's split (in sorted order). Default: the curated "
        "schema's columns, else the header's; other columns added, removed or reordered never move a row.",
    )
    null_values: list[str] = Field(
        default_factory=lambda: list(DEFAULT_NULL_VALUES),
        description="Cell texts read as missing values, in every column. Default: what Arrow's CSV reader treats "
        "as null (empty, NA, N/A, NaN, nan, null, NULL, #N/A, ...) plus None; a list here replaces it "
        "(an empty cell is always missing).",
    )
    splits: dict[str, int] = Field(
        default_factory=lambda: {"train": 2, "eval": 1},
        description="Split name -> hash buckets; must contain 'train' and 'eval'.",
    )
    span: Union[Literal["latest"], Annotated[int, Field(ge=0)]] = Field(
        default="latest", description="With {SPAN} in the path: the newest span, or this span number."
    )
    span_range: Optional[SpanRange] = Field(
        default=None, description="With {SPAN} or dates in the path: read every span from start to end."
    )
    engine: Literal["auto", "arrow", "beam"] = Field(
        default="auto",
        description="Where ingestion runs: arrow (one process), beam (sharded over runner.beam), "
        "auto (arrow on the in-memory DirectRunner, else beam).",
    )
    max_bad_rows: Union[int, float] = Field(
        default=0, description="Bad rows tolerated (quarantined): a count, or a fraction (0.01) of the rows read."
    )
    block_bytes: Optional[int] = Field(
        default=None,
        ge=1,
        description="The in-process engine reads and converts a CSV this many bytes at a time (memory holds a "
        "block or two, never the span). Default: 16 MiB.",
    )

    @field_validator("max_bad_rows")
    @classmethod
    def _count_or_fraction(cls, value: Union[int, float]) -> Union[int, float]:
        if isinstance(value, int) and value < 0:
            raise ValueError(f"a count of bad rows must be >= 0, got {value}")
        if isinstance(value, float) and not 0 <= value < 1:
            raise ValueError(f"a fraction of bad rows must be in [0, 1), got {value} (write a count as an integer)")
        return value

    @field_validator("path")
    @classmethod
    def _existing_input(cls, value: str, info: ValidationInfo) -> str:
        """Resolves the path and insists it names at least one input file (remote ones are not opened)."""
        if is_remote(value):
            return value
        path = resolve_path(value, info)
        fmt = info.data.get("format", "csv")
        if path.is_dir():
            path = path / f"*.{fmt}"
        elif not _is_pattern(str(path)) and not path.exists():
            raise ValueError(f"no such file or directory: {path}")
        if not glob.glob(re.sub(SPAN_SPEC_PATTERN, "*", str(path))):
            if re.search(SPAN_SPEC_PATTERN, str(path)):
                raise ValueError(f"span pattern matches no file: {path}")
            raise ValueError(f"no {fmt} file matches {path}")
        return str(path)

    @model_validator(mode="after")
    def _one_split_rule(self) -> DataSection:
        if self.key is not None and self.split_key is not None:
            raise ValueError("data.split_key: set either key (one column, CsvExampleGen's hash) or split_key, not both")
        return self

    @model_validator(mode="after")
    def _span_range_needs_spans(self) -> DataSection:
        if self.span_range is None:
            return self
        if self.span != "latest":
            raise ValueError("data.span_range: set either span or span_range, not both")
        if not re.search(r"\{(SPAN(:\d+)?|YYYY|MM|DD)\}", self.path):
            raise ValueError("data.span_range: data.path has no {SPAN} or {YYYY}/{MM}/{DD} spec to range over")
        dates = re.search(r"\{(YYYY|MM|DD)\}", self.path) is not None
        if isinstance(self.span_range.start, datetime.date) and not dates:
            raise ValueError("data.span_range: dates need {YYYY}/{MM}/{DD} in data.path (use span numbers with {SPAN})")
        return self

    @property
    def label_spec(self) -> LabelKind:
        """The label's kind as SliceEval takes it (binary when not resolved by `load_config`)."""
        return LabelKind(self.label_kind or "binary", self.num_classes or 2)

    @property
    def input_base(self) -> Union[Path, str]:
        """The directory TFX's file-based ExampleGen reads from: the path up to its first pattern
        (a `gs://`/`s3://` URI stays one: `pathlib` would turn `gs://b` into `gs:/b`)."""
        if is_remote(self.path):
            head, _, rest = self.path.partition("://")
            parts = rest.split("/")
            fixed = next(i for i, part in enumerate(parts) if i == len(parts) - 1 or _is_pattern(part))
            return f"{head}://{'/'.join(parts[:fixed])}"
        parts = Path(self.path).parts
        fixed = next(i for i, part in enumerate(parts) if i == len(parts) - 1 or _is_pattern(part))
        return Path(*parts[:fixed])

    @property
    def input_pattern(self) -> str:
        """The file pattern inside `input_base` (a name, a glob, {SPAN}/{VERSION} specs)."""
        if is_remote(self.path):
            return self.path[len(str(self.input_base)) + 1 :]
        return str(Path(self.path).relative_to(self.input_base))

    @property
    def has_span(self) -> bool:
        return bool(re.search(SPAN_SPEC_PATTERN, self.path))

    @property
    def first_file(self) -> str:
        """The first input file the path matches (any span), e.g. to read its header."""
        return sorted(glob.glob(re.sub(SPAN_SPEC_PATTERN, "*", self.path)))[0]

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


class TrainerStage(_Model):
    module_file: ExistingFile = Field(description="Python module with a TFX `run_fn`; keep it alone in its folder.")
    train_steps: int = Field(gt=0)
    eval_steps: int = Field(gt=0)
    hyperparameters: dict[str, Union[int, float, str, bool, list[int], list[str]]] = Field(default_factory=dict)
    accelerator: Optional[Accelerator] = Field(default=None, description="Requested on Kubeflow (Trainer only).")
    strategy: Strategy = Field(default="one_device", description="tf.distribute strategy of the trainer module.")
    mixed_precision: bool = False
    per_replica_batch_size: Optional[int] = Field(default=None, gt=0, description="Global batch = this x replicas.")
    local_workers: int = Field(
        default=1,
        ge=1,
        le=8,
        description="Processes on this machine (a chief + N-1 workers on loopback); >1 needs multi_worker_mirrored.",
    )

    @model_validator(mode="after")
    def _tpu_needs_a_tpu(self) -> TrainerStage:
        if self.strategy == "tpu" and (self.accelerator is None or "tpu" not in self.accelerator.type.lower()):
            raise ValueError("strategy 'tpu' needs accelerator.type naming a TPU (e.g. tpu-v4-podslice)")
        return self

    @model_validator(mode="after")
    def _workers_need_a_multi_worker_strategy(self) -> TrainerStage:
        if self.local_workers > 1 and self.strategy != "multi_worker_mirrored":
            raise ValueError(
                f"local_workers: {self.local_workers} processes need strategy multi_worker_mirrored "
                f"(got {self.strategy!r}, which trains in one process)"
            )
        return self

    def custom_config(self) -> dict[str, object]:
        """What the trainer module receives: the hyperparameters plus `distribution`."""
        distribution = distribution_config(
            strategy=self.strategy,
            mixed_precision=self.mixed_precision,
            per_replica_batch_size=self.per_replica_batch_size,
            local_workers=self.local_workers,
        )
        return {**self.hyperparameters, "distribution": distribution}


class Stages(_Model):
    validation: ValidationStage = ValidationStage()
    transform: TransformStage = TransformStage()
    trainer: TrainerStage
    tune: TuneStage = TuneStage()
    evaluation: EvaluationStage = EvaluationStage()
    drift: DriftStage = DriftStage()
    push: PushStage

    @model_validator(mode="after")
    def _push_needs_evaluation(self) -> Stages:
        # Without an evaluation there is no blessing to gate the push on: refuse it.
        if self.push.enabled and not self.evaluation.enabled:
            raise ValueError("push.enabled requires evaluation.enabled: a model is only pushed when blessed")
        return self


class RunnerSection(_Model):
    kind: Literal["local"] = "local"
    beam: BeamSection = BeamSection()
    max_in_memory_bytes: Optional[int] = Field(
        default=None,
        ge=1,
        description="The largest split (bytes as Arrow columns) a stage handles in process: above it Validate "
        "hands its statistics over to TFDV on Beam and SliceEval's fast engine (which loads the eval split) hands "
        "over to its beam engine (TFMA on Beam). DataDrift reads its splits batch by batch and is not bounded by "
        "it. Default: 2 GiB.",
    )


class PipelineConfig(_Model):
    """The whole YAML file."""

    pipeline: PipelineSection
    data: DataSection
    schema_file: Optional[ExistingFile] = Field(
        default=None, alias="schema", description="Curated schema.pbtxt; inferred when absent."
    )
    stages: Stages
    runner: RunnerSection = RunnerSection()
    metadata: MetadataSection = SqliteMetadata()
    kubeflow: Optional[KubeflowSection] = Field(default=None, description="Only for compile/submit to Kubeflow.")
    alerts: AlertsSection = Field(
        default_factory=AlertsSection,
        description="Where blocked runs, approvals due and rollbacks are announced (tfxgate/alerts).",
    )
    monitoring: MonitoringSection = Field(
        default_factory=MonitoringSection,
        description="How `tfxgate monitor` judges serving logs, and what a breach does (tfxgate/monitoring).",
    )

    # Where the config came from, for messages and relative paths.
    source: Optional[Path] = Field(default=None, exclude=True)
    # How load_config resolved data.label_kind ("declared", "inferred from ..."), for `check`.
    label_kind_origin: Optional[str] = Field(default=None, exclude=True)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def metadata_path(self) -> Optional[Path]:
        """The SQLite file of the embedded store; None for a server store."""
        if self.metadata.kind != "sqlite":
            return None
        path = Path(self.metadata.path)
        return path if path.is_absolute() else self.pipeline.root / path

    def governed(self) -> GovernedPipeline:
        """What `tfxgate approve/reject/rollback/history` need of this config, as plain values."""
        push = self.stages.push
        return GovernedPipeline(
            name=self.pipeline.name,
            root=self.pipeline.root,
            metadata=self.metadata,
            push_root=filesystem.location(push.root),
            destinations={
                name: Destination(push.destination_dir(name), d.approval, d.credentials_env, d.rollout.policy())
                for name, d in push.destinations.items()
            },
            card_info=push.model_card,
            source=self.source,
        )


def load_config(
    path: Union[str, Path], *, overrides: Optional[list[str]] = None, root: Optional[Path] = None
) -> PipelineConfig:
    """Loads and validates a pipeline YAML.

    Args:
      path: the YAML file.
      overrides: `key.path=value` strings (the CLI's `--set`), applied before
        validation; values are parsed as YAML scalars (`3`, `true`, `[a, b]`).
      root: the CLI's `--root`: the pipeline root, and the push root's parent,
        so that a run under it writes nothing elsewhere: a relative
        `stages.push.root` becomes `<root>/serving` (an absolute one, or one
        given with `--set`, is kept).

    Raises:
      ConfigError: listing every problem with its key path and line.
    """
    source = YamlSource.read(Path(path))
    overrides = [*(overrides or []), *isolating_overrides(source, overrides or [], root)]
    data = apply_overrides(source, overrides)
    empty = [
        place(source, loc, "empty value: name a path or a name, or remove the key", overridden=overrides)
        for loc in empty_values(data)
    ]
    try:
        config = PipelineConfig.model_validate(data, strict=True, context={"base_dir": source.path.parent.resolve()})
    except ValidationError as err:
        raise ConfigError.from_validation(source, err, overridden=overrides, known=empty) from None
    if empty:
        raise ConfigError(source.path, empty)
    kind, origin, problem = label_config.resolve(config.data)
    config = config.model_copy(
        update={
            "data": config.data.model_copy(update={"label_kind": kind.kind, "num_classes": kind.num_classes}),
            "label_kind_origin": origin,
        }
    )
    checks = _cross_checks(config) + ([problem] if problem else [])
    problems = [place(source, loc, message, overridden=overrides) for loc, message in checks]
    if problems:
        raise ConfigError(source.path, problems)
    return config.model_copy(update={"source": source.path})


def isolating_overrides(source: YamlSource, overrides: list[str], root: Optional[Path]) -> list[str]:
    """The `--set`s that `--root` stands for: the pipeline root, and a relative push root moved under it."""
    if root is None:
        return []
    root = Path(root).expanduser().resolve()
    found = [f"pipeline.root={json.dumps(str(root))}"]  # quoted: a path is not YAML
    push = ((source.data.get("stages") or {}).get("push") or {}) if isinstance(source.data.get("stages"), dict) else {}
    push_root = push.get("root") if isinstance(push, dict) else None
    named = any(item.split("=", 1)[0].strip() in ("stages.push.root", "stages.push", "stages") for item in overrides)
    local = isinstance(push_root, str) and not is_remote(push_root)
    relative = local and not Path(push_root).expanduser().is_absolute()
    if not named and relative:
        found.append(f"stages.push.root={json.dumps(str(root / 'serving'))}")
    return found


def known_features(config: PipelineConfig) -> tuple[set[str], str]:
    """Feature names of the curated schema, else of the data's first file (header / Parquet schema).

    Raises:
      SchemaFileError: the schema file does not parse.
      InputProblem: the data's first file cannot be read as data.
    """
    if config.schema_file is not None:
        from tfxgate.artifacts.schema import feature_names, read_schema  # protobuf only, no TF

        return feature_names(read_schema(config.schema_file)), f"the schema {config.schema_file}"
    first = data_files(config.data.path)[0]
    return set(header(first, fmt=config.data.format)), f"the header of {first}"


def _cross_checks(config: PipelineConfig) -> list[tuple[list[str], str]]:
    """Checks that need more than one key, or a look into a file: push destinations stay in the
    push root, the trainer module defines run_fn, the data files have the columns the schema
    requires, the schema parses, named features exist."""
    from tfxgate.artifacts.schema import SchemaFileError, environments, read_schema

    problems: list[tuple[list[str], str]] = check_destinations(config.stages.push)
    if config.kubeflow is not None:
        # A switched-off stage's entry is unused, not wrong: only names no build of this config has are refused.
        problems += resource_problems(config.kubeflow.resources, stages=container_stages(config, every=True))
    uris = [("pipeline.root", config.pipeline.root), ("data.path", config.data.path)]
    if config.metadata.kind == "sqlite":
        uris.append(("metadata.path", config.metadata.path))  # an SQLite file is local; a server store has no path
    for key, value in uris:
        why = filesystem.check_uri(key, str(value))
        if why:
            problems.append((key.split("."), why))
    if config.stages.transform.enabled:
        problems += config.stages.transform.split_problems(set(config.data.splits))
    why = trainer_problem(config.stages.trainer.module_file)
    if why:
        problems.append((["stages", "trainer", "module_file"], why))
    elif config.stages.tune.enabled:  # the Tuner runs the trainer module's tuner_fn
        why = entry_point_problem(
            config.stages.trainer.module_file, name="tuner_fn", caller="TFX's Tuner calls tuner_fn(fn_args)"
        )
        if why:
            problems.append((["stages", "tune", "enabled"], why))
    schema = None
    if config.schema_file is not None:
        try:
            schema = read_schema(config.schema_file)
        except SchemaFileError as err:
            return [*problems, (["schema"], str(err))]
    if is_remote(config.data.path):
        return problems  # nothing to read here: `check` reports it as not checked
    environment = config.stages.validation.environment
    required = required_columns(schema, environment=environment) if schema is not None else set()
    required_by = f"the schema {config.schema_file}" + (f" in environment {environment}" if environment else "")
    data = data_problems(
        config.data.path, fmt=config.data.format, required=required, key=config.data.key, where_required=required_by
    )
    problems += [(key.split("."), message) for key, message in data]
    serving = config.stages.drift.serving
    if serving and not is_remote(serving):
        try:
            header(serving, fmt="csv")
        except InputProblem as err:
            problems.append((["stages", "drift", "serving"], str(err)))
    if data:
        return problems  # the features below are looked up in the data's header
    known, where = known_features(config)
    if config.stages.evaluation.enabled:
        problems += check_slice_features(config.stages.evaluation, known, source=where)
        problems += check_metrics(config.stages.evaluation, config.data.label_spec)
    for name in config.data.split_key or []:
        if name not in known:
            problems.append((["data", "split_key"], f"column {name!r} is not in {where} ({len(known)} features)"))
    # Per-feature settings of drift and validation must name features that exist.
    for stage in ("drift", "validation"):
        for feature in getattr(config.stages, stage).features:
            if feature not in known:
                problems.append(
                    (
                        ["stages", stage, "features", feature],
                        f"feature {feature!r} is not in {where} ({len(known)} features)",
                    )
                )
    if schema is not None:
        problem = check_environment(environment, environments(schema))
        if problem:
            problems.append((["stages", "validation", "environment"], problem))
    return problems


def not_checked(config: PipelineConfig) -> list[str]:
    """Inputs `check` could not look at (remote sources), for it to say so."""
    sources = [("data.path", config.data.path), ("stages.drift.serving", config.stages.drift.serving)]
    return [f"{key} {value}: not checked (remote)" for key, value in sources if value and is_remote(value)]
