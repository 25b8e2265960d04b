"""Missing-value tokens (`data.null_values`), and the `tfxgate check` hint for tokens not declared.

Ingest reads every cell equal to one of the tokens as a missing value, in every
column (arrow_csv.py), so type inference and the schema see a numeric column
with `NA` holes as numeric. When a token is not declared, the column is read as
strings and the run fails much later (the Trainer's `Expected type: int64`):
`tokens_in_numeric_columns` samples the first rows of a file for that case so
`tfxgate check` can name the column and the tokens up front.

Importing this module imports no Arrow (config loading stays light); the
sampler imports it when called.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

# What `pyarrow.csv` reads as null by default (ConvertOptions().null_values), plus `None`
# (Python's str(None), in pandas' default list too). `data.null_values` replaces it.
DEFAULT_NULL_VALUES = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)

# A number as inference reads one (columns._FLOAT_PATTERN, without NaN/inf: those are tokens here).
_NUMBER = re.compile(r"^\s*[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)\s*$")


def null_tokens(null_values: Sequence[str]) -> list[str]:
    """The cell texts read as missing: `null_values`, and always the empty cell (CsvExampleGen's missing)."""
    return sorted({"", *null_values})


@dataclass(frozen=True)
class TokenColumn:
    """A column that reads as numbers but for a few other texts (likely undeclared missing-value tokens)."""

    column: str
    tokens: dict[str, int]  # text -> cells holding it, in the sample
    numbers: int  # cells holding a number, in the sample
    rows: int  # rows sampled

    def describe(self, path: str) -> str:
        tokens = ", ".join(f"{text!r} ({count}x)" for text, count in self.tokens.items())
        return (
            f"column {self.column!r} of {path} holds numbers except for {tokens} in its first {self.rows} rows: "
            f"it will be read as strings. If these mean 'missing', add them to data.null_values"
        )


def tokens_in_numeric_columns(
    path: str, *, data_format: str, null_values: Sequence[str], rows: int = 1000, max_tokens: int = 3
) -> list[TokenColumn]:
    """Columns of the first `rows` rows of `path` that are numbers except for at most `max_tokens` texts.

    A column counts when at least half of its non-missing cells are numbers and
    the rest take 1..`max_tokens` distinct values (after `null_values`).
    """
    texts = _sample(path, data_format=data_format, null_values=null_values, rows=rows)
    found = []
    for name, cells in texts.items():
        present = [c for c in cells if c is not None]
        others: dict[str, int] = {}
        for cell in present:
            if not _NUMBER.match(cell):
                others[cell] = others.get(cell, 0) + 1
        numbers = len(present) - sum(others.values())
        if others and len(others) <= max_tokens and numbers >= max(1, len(present) / 2):
            found.append(TokenColumn(name, dict(sorted(others.items())), numbers, len(cells)))
    return found


def _sample(path: str, *, data_format: str, null_values: Sequence[str], rows: int) -> dict[str, list]:
    """Column -> the text of its first `rows` cells (None where missing); Parquet: its string columns only.

    No Arrow streaming reader: a sample is small, and a reader stopped early left its
    read-ahead thread to abort the process at exit.
    """
    tokens = set(null_tokens(null_values))
    if data_format == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        if parquet.metadata.num_row_groups == 0:
            return {}
        table = parquet.read_row_group(0).slice(0, rows)
        return {
            name: [None if v in tokens else v for v in table.column(name).cast(pa.string()).to_pylist()]
            for name, kind in zip(table.schema.names, table.schema.types, strict=True)
            if pa.types.is_string(kind) or pa.types.is_binary(kind)
        }
    import csv
    import itertools

    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        records = csv.reader(handle)
        header = next(records, [])
        sample = [r for r in itertools.islice(records, rows) if len(r) == len(header)]
    return {name: [None if r[i] in tokens else r[i] for r in sample] for i, name in enumerate(header)}
