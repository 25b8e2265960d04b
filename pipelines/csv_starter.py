"""`tfxgate init DIR --csv FILE --label COLUMN`: a project for the user's own CSV.

Writes `DIR/configs/<name>.yaml` and `DIR/trainers/<name>/trainer.py` (the
generic tabular trainer the wheel ships, `trainers/tabular/trainer.py`, alone
in its folder), from what `csv_profile` learns from the first rows: the label's
kind and classes, the numeric and categorical features (handed to the trainer
as hyperparameters), a low-cardinality column to slice on, and gates for the
label's kind. Relative paths in the config are relative to it, as everywhere.

No schema is written. As in TFX's own flow (SchemaGen infers a first schema,
a person reviews it, ImportSchemaGen then holds the data to it), the first run
infers one from the whole input, with TFDV's domains and presence, and
proposes it; `tfxgate schema adopt` makes it the curated contract. A schema
guessed here from a sample would be a contract nobody reviewed, and the
trainer reads each column's type from whichever schema the run has.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Optional, Sequence

import yaml

from tfxgate.pipelines import csv_profile
from tfxgate.pipelines.csv_profile import Profile, ProfileError
from tfxgate.pipelines.starter import refuse_existing

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")  # Kubeflow-safe, as pipeline.name requires
_PLAIN = re.compile(r"^[A-Za-z0-9_./-]+$")  # nothing YAML reads as syntax, in a flow list too
BATCH_SIZE = 64


class CsvStarterError(ProfileError):
    """The project cannot be written as asked (bad name, or the CSV's own problem); nothing was written."""


@dataclass(frozen=True)
class CsvStarter:
    """What `write_csv_starter` wrote, and what to tell the user about it."""

    files: list[Path]
    config: Path
    notes: list[str]


def write_csv_starter(
    directory: Path,
    csv: Path,
    *,
    label: str,
    label_kind: Optional[str] = None,
    name: Optional[str] = None,
    exclude: Sequence[str] = (),
) -> CsvStarter:
    """Profiles `csv` and writes a config and trainer for it under `directory`.

    Raises:
      CsvStarterError / ProfileError: naming the file and column; StarterExists: a
        target file exists. Nothing is written in either case.
    """
    name = name or pipeline_name(csv)
    if not _NAME.match(name):
        raise CsvStarterError(f"--name {name!r}: a pipeline name is [a-z0-9][a-z0-9-]* (it also names Kubeflow runs)")
    found = csv_profile.profile(csv, label=label, label_kind=label_kind, exclude=exclude)
    config = directory / "configs" / f"{name}.yaml"
    trainer = directory / "trainers" / name / "trainer.py"
    refuse_existing([config, trainer])
    trainer.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(str(resources.files("tfxgate") / "examples/tabular/trainers/tabular/trainer.py")), trainer)
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(config_text(found, name=name, data_path=_data_path(csv, config.parent)))
    return CsvStarter([config, trainer], config, _notes(found, config=config, directory=directory, name=name))


def pipeline_name(csv: Path) -> str:
    """The CSV's file name as a pipeline name: `My Data_2024.csv` -> `my-data-2024`."""
    name = re.sub(r"[^a-z0-9]+", "-", csv.stem.lower()).strip("-")[:128]
    return name or "tabular"


def _data_path(csv: Path, config_dir: Path) -> str:
    """Relative to the config when the CSV lies inside the project (it moves with it), else absolute."""
    csv, project = csv.resolve(), config_dir.resolve().parent
    if project in csv.parents:
        return os.path.relpath(csv, config_dir.resolve())
    return str(csv)


def config_text(found: Profile, *, name: str, data_path: str) -> str:
    """The pipeline YAML for a profiled CSV, commented where a choice was made."""
    label = found.label
    rows = found.rows
    head = f"the first {rows} rows" if rows >= csv_profile.SAMPLE_ROWS else f"its {rows} rows"
    train_rows = rows * 2 / 3
    train_steps = min(1000, max(50, math.ceil(10 * train_rows / BATCH_SIZE)))  # ~10 passes over the data
    eval_steps = min(50, max(1, math.ceil(rows / 3 / BATCH_SIZE)))
    min_examples = min(100, max(10, rows // 30))
    kind_lines = [f"  label_kind: {label.kind}  # inferred from {head}: {label.why}"]
    hyper = [f"label: {_scalar(label.name)}", f"label_kind: {label.kind}"]
    if label.classes:
        hyper.append(f"classes: {_flow(label.classes)}   # class id = position in this list")
    if label.kind == "multiclass":
        kind_lines.append(f"  num_classes: {len(label.classes)}  # the trainer's `classes`")
    slices = ["      - []  # overall"]
    if found.slice_column:
        slices.append(f"      - [{_scalar(found.slice_column)}]")
    return _TEMPLATE.format(
        csv=Path(data_path).name,
        label=label.name,
        kind=label.describe(),
        head=head,
        name=name,
        data_path=_scalar(data_path),
        label_key=_scalar(label.name),
        kind_lines="\n".join(kind_lines),
        train_steps=train_steps,
        eval_steps=eval_steps,
        hyper="\n".join(f"      {line}" for line in hyper),
        numeric=_flow(found.numeric),
        categorical=_flow(found.categorical),
        batch_size=BATCH_SIZE,
        slices="\n".join(slices),
        min_examples=min_examples,
        gates=_gates(found),
    )


def _gates(found: Profile) -> str:
    label = found.label
    if label.kind == "binary":
        return (
            "    # AUC 0.5 is a coin flip: demand clearly better overall, and no slice of the data\n"
            "    # on which the model is right less often than a coin.\n"
            "    overall:\n"
            "      auc: {min: 0.6, max_regression: 0.02}\n"
            "    thresholds:  # overall and every slice with >= min_examples\n"
            "      binary_accuracy: {min: 0.5, max_regression: 0.05}"
        )
    if label.kind == "multiclass":
        majority = math.floor(label.majority * 100) / 100
        chance = math.floor(100 / len(label.classes)) / 100
        return (
            f"    # Always answering the most common class is right {label.majority:.0%} of the time\n"
            f"    # (in the sample): a model must do at least that well overall, and on no slice worse\n"
            f"    # than guessing among the {len(label.classes)} classes.\n"
            "    overall:\n"
            f"      accuracy: {{min: {majority}, max_regression: 0.02}}\n"
            "    thresholds:  # overall and every slice with >= min_examples\n"
            f"      accuracy: {{min: {chance}}}"
        )
    allowed = float(f"{max(label.spread, 1e-6) * 0.1:.3g}")
    return (
        "    # r2 0 is what always predicting the mean scores: demand better overall; per slice,\n"
        "    # the mean absolute error may not grow by more than a tenth of the label's deviation\n"
        f"    # ({label.spread:.3g} in the sample) against the model in production.\n"
        "    overall:\n"
        "      r2: {min: 0.0, max_regression: 0.05}\n"
        "    thresholds:  # overall and every slice with >= min_examples\n"
        f"      mean_absolute_error: {{max_regression: {allowed}}}"
    )


def _notes(found: Profile, *, config: Path, directory: Path, name: str) -> list[str]:
    from tfxgate.components.ingest.null_values import DEFAULT_NULL_VALUES, tokens_in_numeric_columns

    label = found.label
    classes = f", classes {list(label.classes)} (ids 0..{len(label.classes) - 1})" if label.classes else ""
    notes = [
        f"label {label.name!r}: {label.describe()}{classes}: {label.why}",
        f"features: {len(found.numeric)} numeric {list(found.numeric)}, "
        f"{len(found.categorical)} categorical {list(found.categorical)}",
        f"slices: overall{f', {found.slice_column}' if found.slice_column else ''}",
        "schema: inferred by the first run (SchemaGen) and proposed for review; adopt it with "
        f"`tfxgate schema adopt RUN --to {shlex.quote(str(directory / 'schemas' / name / 'schema.pbtxt'))}` "
        "and uncomment `schema:` in the config",
    ]
    for column in tokens_in_numeric_columns(
        str(found.path), data_format="csv", null_values=DEFAULT_NULL_VALUES, rows=csv_profile.SAMPLE_ROWS
    ):
        notes.append(f"warning: {column.describe(str(found.path))} (data.null_values in {config})")
    return notes


def _scalar(value) -> str:
    """A YAML scalar that reads back as `value`: plain where safe, else a JSON string (valid YAML)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if _PLAIN.match(text) and yaml.safe_load(text) == text:  # not a number, bool or null to YAML
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(values) -> str:
    return "[" + ", ".join(_scalar(v) for v in values) + "]"


_TEMPLATE = """\
# Pipeline for {csv}: predict `{label}` ({kind}) from the other columns.
# Written by `tfxgate init --csv` from {head}; every choice below is a starting
# point to edit. Relative paths are relative to this file.
pipeline:
  name: {name}
  root: ../runs/{name}  # artifacts, ML Metadata (SQLite) and logs

data:
  path: {data_path}
  format: csv
  label: {label_key}
{kind_lines}
  splits: {{train: 2, eval: 1}}  # hash buckets
  # null_values default: empty, NA, N/A, NaN, null, None, ... are missing values.
  # More data later? Point path at a pattern such as data/span-{{SPAN}}.csv.

# No schema yet: the first run infers one (SchemaGen) and proposes it for review.
# After `tfxgate schema adopt RUN --to schemas/{name}/schema.pbtxt` (from the project folder):
# schema: ../schemas/{name}/schema.pbtxt

stages:
  validation:
    default: fail  # any anomaly stops the run before training
  trainer:
    module_file: ../trainers/{name}/trainer.py
    train_steps: {train_steps}  # about 10 passes over the training rows
    eval_steps: {eval_steps}
    hyperparameters:  # read by the trainer module (its docstring says how)
{hyper}
      numeric: {numeric}  # standardised; missing -> the mean
      categorical: {categorical}  # one-hot on frequent values, rarer ones hashed
      hidden_units: [32, 16]
      learning_rate: 0.01
      batch_size: {batch_size}
  evaluation:
    slices:
{slices}
    min_examples: {min_examples}  # smaller slices are reported, never gate
{gates}
  drift:
    # Each run is compared with the previous span of the data. A single file has one
    # span: with spans ({{SPAN}} in data.path), set policy: block to stop drifted data.
    policy: warn
  push:
    root: ../serving/{name}
    destinations:
      staging: {{path: staging, approval: auto}}
      production: {{path: production, approval: manual}}  # waits for `tfxgate approve`

runner:
  kind: local
  beam: {{runner: direct, direct_running_mode: in_memory, direct_num_workers: 1}}
"""
