"""The ingestion core: input files -> typed, quarantined, split columns.

Pure functions on bytes and Arrow (no TFX): the executor hands in the files of
the resolved span and writes what comes back. Order of work:

1. parse every file (`arrow_csv`), check all headers agree;
2. type every column (schema rules, or inference reported back);
3. collect bad rows (column count, UTF-8, unparsable, forbidden NaN/inf), apply
   `max_bad_rows`, drop them;
4. assign deterministic hash splits (`splits`) over the split key's columns.

Cells equal to a missing-value token (`data.null_values`) are null from the
parse on, so inference, typing and the split hash all see them as missing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Optional, Sequence, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tfxgate.components.ingest import columns as col
from tfxgate.components.ingest.arrow_csv import (
    FileRows,
    InputError,
    check_same_header,
    read_csv_bytes,
    read_parquet_bytes,
)
from tfxgate.components.ingest.null_values import DEFAULT_NULL_VALUES
from tfxgate.components.ingest.quarantine import BadRow, enforce_policy
from tfxgate.components.ingest.splits import assign_splits, split_key_columns


@dataclass
class Ingested:
    """Good rows, typed and split, plus everything the artifact records about them."""

    columns: dict[str, pa.Array]  # typed good rows
    kinds: dict[str, Optional[str]]  # INT / FLOAT / BYTES, None for an all-empty column
    split_index: np.ndarray  # position in the split config, per good row
    split_names: list[str]
    bad_rows: list[BadRow]
    rows_read: int
    file_sha256: dict[str, str]
    inferred: list[str] = field(default_factory=list)  # columns typed by inference, not the schema

    def rows_per_split(self) -> dict[str, int]:
        counts = np.bincount(self.split_index, minlength=len(self.split_names))
        return {name: int(n) for name, n in zip(self.split_names, counts, strict=True)}

    def split_columns(self, position: int) -> tuple[dict[str, pa.Array], int]:
        """The typed columns of one split and its row count."""
        take = pa.array(np.flatnonzero(self.split_index == position))
        return {name: values.take(take) if values is not None else None for name, values in self.columns.items()}, len(
            take
        )


def ingest(
    files: list[tuple[str, bytes]],
    *,
    data_format: str,
    splits: dict[str, int],
    rules: Optional[dict[str, col.ColumnRule]] = None,
    key: Optional[str] = None,
    split_key: Optional[Sequence[str]] = None,
    null_values: Sequence[str] = DEFAULT_NULL_VALUES,
    max_bad_rows: Union[int, float] = 0,
) -> Ingested:
    """Parses, types, quarantines and splits the files of one span.

    Args:
      files: (path, content) of every input file, in a stable order.
      data_format: "csv" or "parquet".
      splits: split name -> hash buckets.
      rules: column rules from the schema; None to infer every column's type.
      key: split by this column's hash (CsvExampleGen-compatible) instead of the row's.
      split_key: the columns hashed for a row's split (default: `rules`' columns, else the header's).
      null_values: cell texts read as missing values (the empty cell always is).
      max_bad_rows: a count, or a fraction (float) of the rows read.

    Raises:
      InputError: empty input, header mismatch, unknown key column.
      TooManyBadRows: more bad rows than `max_bad_rows` allows.
    """
    if not files:
        raise InputError("empty input: no files to read")
    reader = read_csv_bytes if data_format == "csv" else read_parquet_bytes
    parsed = [reader(path, data, null_values=null_values) for path, data in files]
    check_same_header(parsed)
    rows_read = sum(f.table.num_rows + len(f.bad_rows) for f in parsed)
    if rows_read == 0:
        raise InputError(f"empty input: {', '.join(p for p, _ in files)} contain(s) a header but no rows")
    check_key(key, parsed[0].header)
    rules = rules or {}
    hashed = split_key_columns(split_key, header=parsed[0].header, schema_columns=rules)
    table = pa.concat_tables([f.table for f in parsed])
    texts, problems = text_columns(table, parsed[0].header)
    kinds, casts = column_kinds(texts, rules=rules)
    rows = typed_rows(parsed, texts, problems, kinds=kinds, rules=rules, casts=casts)
    enforce_policy(rows.bad_rows, max_bad_rows=max_bad_rows, total_rows=rows_read)
    return Ingested(
        columns=rows.columns,
        kinds=kinds,
        split_index=rows.split_index(splits, key=key, kinds=kinds, hashed=hashed),
        split_names=list(splits),
        bad_rows=rows.bad_rows,
        rows_read=rows_read,
        file_sha256={path: hashlib.sha256(data).hexdigest() for path, data in files},
        inferred=[name for name in kinds if name not in rules],
    )


@dataclass
class TypedRows:
    """The good rows of some parsed input (a span, or one shard of it), typed."""

    columns: dict[str, Optional[pa.Array]]  # typed values, None for a column without a type
    texts: dict[str, pa.Array]  # the raw cell texts (what the row hash reads)
    bad_rows: list[BadRow]

    def split_index(
        self, splits: dict[str, int], *, key: Optional[str], kinds: dict[str, Optional[str]], hashed: list[str]
    ):
        """Split position per good row; depends on each row alone, so shards split exactly like the whole.

        `hashed`: the split key's columns (`splits.split_key_columns`), used when `key` is None.
        """
        return assign_splits(
            buckets=splits,
            text_columns=[self.texts[name] for name in hashed],
            key=key,
            key_values=self.columns.get(key) if key else None,
            key_kind=kinds.get(key) if key else None,
        )


def check_key(key: Optional[str], header: list[str]) -> None:
    if key is not None and key not in header:
        raise InputError(f"data.key: column {key!r} is not in the input (columns: {header})")


def text_columns(table: pa.Table, header: list[str]) -> tuple[dict[str, pa.Array], list[col.Problem]]:
    """Every column as UTF-8 text, and the cells that are not valid UTF-8."""
    texts, problems = {}, []
    for name in header:
        texts[name], found = _text_of(name, table.column(name).combine_chunks())
        problems += found
    return texts, problems


def column_kinds(texts: dict[str, pa.Array], *, rules: dict[str, col.ColumnRule], at_least=None):
    """The schema's kind of each column, or the inferred one; and the values inference already cast.

    `at_least`: kinds other parts of the input gave (see `columns.infer_kind`); the
    result may then be narrower than this part's own inference only where it
    cannot change the merged kind.
    """
    kinds, casts, at_least = {}, {}, at_least or {}
    for name, text in texts.items():
        if name in rules:
            kinds[name] = rules[name].kind
        else:
            kinds[name], casts[name] = col.infer_kind(text, at_least=at_least.get(name))
    return kinds, casts


# Inference widens: a column is INT only if it is INT everywhere, and so on.
_WIDTH = {None: 0, col.INT: 1, col.FLOAT: 2, col.BYTES: 3}


def widest_kinds(*partial: dict[str, Optional[str]]) -> dict[str, Optional[str]]:
    """Merges kinds inferred on parts of the input into the kinds of the whole (exactly what inferring
    on the concatenation gives: INT < FLOAT < BYTES, an all-empty part says nothing)."""
    merged: dict[str, Optional[str]] = {}
    for kinds in partial:
        for name, kind in kinds.items():
            merged[name] = max(merged.get(name), kind, key=_WIDTH.__getitem__)
    return merged


def typed_rows(parsed, texts, problems, *, kinds, rules, casts=None) -> TypedRows:
    """Converts every column to its kind, quarantines the rows that fail, keeps the rest.

    Args:
      parsed: the `FileRows` whose tables, concatenated, gave `texts`.
      texts: `text_columns` of those tables; problems: its UTF-8 problems.
      kinds: the kind of every column (for the whole input, not just these rows).
      rules: the schema's column rules (NaN/inf checks).
      casts: values `column_kinds` already cast, reused when the kind is the inferred one.
    """
    problems, typed = list(problems), {}
    casts = casts or {}
    for name, text in texts.items():
        kind = kinds[name]
        if kind is None:
            typed[name] = None
            continue
        values, found = col.convert(name, text, rules.get(name) or col.ColumnRule(kind), parsed=casts.get(name))
        problems += found
        typed[name] = values
    bad_rows, keep = _quarantine(parsed, problems)
    if not keep.all():
        mask = pa.array(keep)
        texts = {n: pc.filter(t, mask) for n, t in texts.items()}
        typed = {n: (pc.filter(v, mask) if v is not None else None) for n, v in typed.items()}
    return TypedRows(columns=typed, texts=texts, bad_rows=bad_rows)


def _text_of(name: str, column: pa.Array):
    """Any column as UTF-8 text (Parquet columns are typed; their text is for hashing and re-typing)."""
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        return col.to_text(name, column)
    if pa.types.is_floating(column.type):
        column = column.cast(pa.float64())
    return column.cast(pa.string()), []


def _quarantine(parsed: list[FileRows], problems: list[col.Problem]):
    """Bad rows (the first problem of each row, in column order) and the keep-mask over table rows."""
    owner = np.concatenate([np.full(f.table.num_rows, i, dtype=np.int64) for i, f in enumerate(parsed)])
    first_row = np.concatenate([[0], np.cumsum([f.table.num_rows for f in parsed])])
    bad = [b for f in parsed for b in f.bad_rows]
    keep = np.ones(len(owner), dtype=bool)
    for problem in problems:
        for row in problem.rows:
            if keep[row]:
                keep[row] = False
                source = parsed[owner[row]]
                local = int(row - first_row[owner[row]])
                line = int(source.lines[local])
                bad.append(BadRow.of(source.path, line, problem.column, problem.reason, source.raw_record(local)))
    return bad, keep
