"""What `tfxgate init --csv` learns from the first rows of a CSV: column types, the label's kind and classes.

Read with Ingest's own reader and type inference (`components/ingest`:
`arrow_csv.read_csv_bytes`, `columns.infer_kind`, the default missing-value
tokens), so a column is numeric here exactly when the pipeline will ingest it
as INT or FLOAT. Only the first `SAMPLE_ROWS` rows are read; the trainer takes
each column's final type from the run's schema, so a type widened by later
rows (INT -> FLOAT) still trains. Every refusal (`ProfileError`) names the file
and, where it is about one, the column.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

from tfxgate.components.slice_eval.label_kinds import KINDS, MAX_CLASSES

SAMPLE_ROWS = 10_000
# A column with this many distinct values or fewer (and at least 2) can be a slice.
MAX_SLICE_VALUES = 10

ClassValue = Union[int, str]


class ProfileError(ValueError):
    """The CSV cannot make a project as asked: the message names the file and the column."""


@dataclass(frozen=True)
class Column:
    """One column of the sample: its inferred kind (INT, FLOAT, BYTES) and its values' counts."""

    name: str
    kind: str
    counts: dict[str, int]  # value text -> rows holding it (missing cells left out)

    @property
    def numeric(self) -> bool:
        return self.kind in ("INT", "FLOAT")


@dataclass(frozen=True)
class Label:
    """The label: its kind, its classes (class id = position; empty for regression), and why."""

    name: str
    kind: str
    classes: tuple[ClassValue, ...]
    why: str
    majority: float  # share of the most common class in the sample (classification), else 0
    spread: float  # standard deviation of the values in the sample (regression), else 0

    def describe(self) -> str:
        return f"multiclass ({len(self.classes)} classes)" if self.kind == "multiclass" else self.kind


@dataclass(frozen=True)
class Profile:
    path: Path
    rows: int  # rows sampled
    label: Label
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    slice_column: Optional[str]  # a low-cardinality column to slice the evaluation on, if any


def profile(
    path: Path, *, label: str, label_kind: Optional[str] = None, exclude: Sequence[str] = (), rows: int = SAMPLE_ROWS
) -> Profile:
    """Reads the first `rows` rows of the CSV at `path` and plans the project's features and label.

    Args:
      path: the CSV file (header line first).
      label: the label column.
      label_kind: `binary`, `multiclass` or `regression`; None to infer it.
      exclude: columns that are not features (they still flow through the pipeline).

    Raises:
      ProfileError: an unreadable, empty or header-only file; a label that is not a
        column, has one value only, or does not fit `label_kind`; a feature column
        with no value in the sample.
    """
    sample = _read(path, rows)
    names = sample.header
    if label not in names:
        raise ProfileError(f"label column {label!r} is not in the header of {path} (columns: {', '.join(names)})")
    unknown = [name for name in exclude if name not in names]
    if unknown:
        raise ProfileError(f"--exclude: no column {', '.join(map(repr, unknown))} in {path}")
    columns = {name: _column(name, sample) for name in names}
    plan = _label(path, columns[label], rows=sample.num_rows, declared=label_kind)
    features = [columns[n] for n in names if n != label and n not in exclude]
    if not features:
        raise ProfileError(f"{path}: no column besides the label {label!r} is left to learn from")
    empty = [c.name for c in features if c.kind is None]
    if empty:
        raise ProfileError(
            f"{path}: column {', '.join(map(repr, empty))} has no value in the first {sample.num_rows} rows, "
            "so its type cannot be inferred (a feature must be a number or a text): fill it, or leave it out "
            "with --exclude COLUMN"
        )
    return Profile(
        path=path,
        rows=sample.num_rows,
        label=plan,
        numeric=tuple(c.name for c in features if c.numeric),
        categorical=tuple(c.name for c in features if not c.numeric),
        slice_column=_slice_column(features),
    )


def _read(path: Path, rows: int):
    import pyarrow as pa

    from tfxgate.components.ingest.arrow_csv import InputError, read_csv_bytes

    try:
        with open(path, "rb") as handle:
            data = b"".join(itertools.islice(handle, rows + 1))
    except OSError as err:
        raise ProfileError(f"cannot read the CSV {path}: {err.strerror or err}") from err
    try:
        sample = read_csv_bytes(str(path), data, use_threads=False)  # see its docstring: `init` exits right after
    except InputError as err:
        raise ProfileError(str(err)) from err
    except (pa.ArrowInvalid, csv.Error) as err:  # e.g. a compressed or binary file
        raise ProfileError(f"{path}: not a CSV file with a header line ({err})") from err
    names = sample.header
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated or "" in [n.strip() for n in names]:
        what = f"repeats column {', '.join(map(repr, duplicated))}" if duplicated else "has a column without a name"
        raise ProfileError(f"{path}: the header {what}; every column needs its own name")
    if sample.table.num_rows == 0:
        raise ProfileError(f"{path} has a header but no rows: nothing to infer the column types from")
    return _Sample(names, sample.table)


@dataclass(frozen=True)
class _Sample:
    header: list[str]
    table: object  # pyarrow.Table of binary cells, missing-value tokens as nulls

    @property
    def num_rows(self) -> int:
        return self.table.num_rows


def _column(name: str, sample: _Sample) -> Column:
    import pyarrow.compute as pc

    from tfxgate.components.ingest.columns import infer_kind, to_text

    cells = sample.table.column(sample.header.index(name)).combine_chunks()
    text, _ = to_text(name, cells)
    kind, _ = infer_kind(text)
    counts: dict[str, int] = {}
    for entry in pc.value_counts(text.drop_null()).to_pylist():
        # A number reads the same with spaces around it (" 3"); a text is kept as the examples hold it.
        value = entry["values"].strip() if kind in ("INT", "FLOAT") else entry["values"]
        counts[value] = counts.get(value, 0) + entry["counts"]
    return Column(name, kind, counts)


def _label(path: Path, column: Column, *, rows: int, declared: Optional[str]) -> Label:
    where = f"label column {column.name!r} of {path}"
    if column.kind is None:
        raise ProfileError(f"{where} has no value in its first {rows} rows")
    numbers = {text: float(text) for text in column.counts} if column.numeric else {}
    distinct = len(set(numbers.values())) if numbers else len(column.counts)  # "1" and "1.0" are one number
    if distinct == 1:
        raise ProfileError(
            f"{where} holds one value only ({_examples(column)}) in its first {rows} rows: nothing to learn"
        )
    integers = bool(numbers) and all(math.isfinite(v) and v.is_integer() for v in numbers.values())
    kind = declared or _infer(distinct, numbers, integers)
    if kind not in KINDS:
        raise ProfileError(f"unknown label kind {kind!r} (one of: {', '.join(KINDS)})")
    if kind == "regression":
        if not numbers:
            raise ProfileError(f"{where} holds texts ({_examples(column)}): a regression label must be a number")
        values = [v for text, v in numbers.items() for _ in range(column.counts[text])]
        mean = sum(values) / len(values)
        spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        why = f"{distinct} distinct {'integers' if integers else 'numbers'}"
        return Label(column.name, kind, (), why, 0.0, spread)
    if numbers and not integers:
        raise ProfileError(
            f"{where} holds non-integer numbers ({_examples(column)}): a class label must be integers or texts; "
            "use --label-kind regression to predict the number"
        )
    if kind == "binary" and distinct != 2:
        raise ProfileError(f"{where} has {distinct} distinct values, a binary label 2: use --label-kind multiclass")
    if distinct > MAX_CLASSES:
        raise ProfileError(
            f"{where} has {distinct} distinct values in its first {rows} rows: too many classes "
            f"(at most {MAX_CLASSES}); use --label-kind regression for a number"
        )
    classes = _classes(column, numbers)
    majority = max(column.counts.values()) / sum(column.counts.values())
    why = f"{distinct} distinct {'integers' if numbers else 'texts'} ({_examples(column)})"
    return Label(column.name, kind, classes, why, majority, 0.0)


def _infer(distinct: int, numbers: dict[str, float], integers: bool) -> str:
    """The rule `tfxgate check` applies (label_kinds.infer): 2 values binary, up to MAX_CLASSES
    integers or texts multiclass, other numbers regression."""
    if numbers and (not integers or distinct > MAX_CLASSES):
        return "regression"
    return "binary" if distinct == 2 else "multiclass"


def _classes(column: Column, numbers: dict[str, float]) -> tuple[ClassValue, ...]:
    """The classes in class-id order: the sorted values (integer labels 0..n-1 keep their ids;
    for binary the second value, e.g. 1 or 'yes', is the positive class)."""
    if not numbers:
        return tuple(sorted(column.counts))
    return tuple(sorted({int(v) for v in numbers.values()}))


def _examples(column: Column, count: int = 3) -> str:
    common = sorted(column.counts, key=lambda v: (-column.counts[v], v))[:count]
    more = ", ..." if len(column.counts) > count else ""
    return ", ".join(map(repr, common)) + more


def _slice_column(features: list[Column]) -> Optional[str]:
    """A text column with 2..MAX_SLICE_VALUES values (else such an integer column), the most even one:
    its smallest group is the largest."""
    for numeric in (False, True):
        candidates = [
            c
            for c in features
            if c.numeric == numeric and (c.kind != "FLOAT") and 2 <= len(c.counts) <= MAX_SLICE_VALUES
        ]
        if candidates:
            return max(candidates, key=lambda c: (min(c.counts.values()), -len(c.counts))).name
    return None
