"""Reading data into the check's tables: one value per row, missing as None/NaN.

An Examples split comes as Arrow list columns from the artifact reader, one
record batch at a time (`tfxgate.artifacts.examples.split_batches`), and is
summarised batch by batch (`summarise`: memory grows with the distinct values,
not the rows); a serving CSV is read with pyarrow. Multi-valued features are
compared on their first value.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from tfxgate.drift import columns
from tfxgate.storage import filesystem


def from_arrow(data) -> tuple[dict[str, np.ndarray], set[str]]:
    """Columns of a record batch/table as flat arrays, and which of them are categorical (strings)."""
    columns, categorical = {}, set()
    for name, column in zip(data.schema.names, data.columns, strict=True):
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            column = _first_value(column)
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            column = column.cast(pa.string())
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            columns[name] = np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
            categorical.add(name)
        elif pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            columns[name] = column.cast(pa.float64()).fill_null(float("nan")).to_numpy(zero_copy_only=False)
    return columns, categorical


def summarise(
    batches: Iterable,
    *,
    categorical: set[str] = frozenset(),
    source: str,
    max_distinct: int = columns.MAX_DISTINCT,
    leave_out: set[str] = frozenset(),
) -> tuple[columns.Summary, set[str]]:
    """A split's summary from its record batches (`from_arrow` on one batch at a time), and its string features.

    `categorical`: numeric features to count as categories (the schema's categorical INT features).
    Only one batch's columns are held at a time; `source` names the data in errors; the
    features in `leave_out` (e.g. the label) are not summarised.
    """
    summarizer, strings = columns.Summarizer(max_distinct=max_distinct, source=source), set()
    for batch in batches:
        strings |= add_batch(summarizer, batch, categorical=categorical, leave_out=leave_out)
    return summarizer.summary(), strings


def add_batch(
    summarizer: columns.Summarizer, batch, *, categorical: set[str] = frozenset(), leave_out: set[str] = frozenset()
) -> set[str]:
    """One record batch into `summarizer` (what `summarise` does per batch); returns the batch's string features."""
    table, batch_strings = from_arrow(batch)
    for name in leave_out:
        table.pop(name, None)
    batch_strings -= set(leave_out)
    summarizer.add(table, categorical=batch_strings | (categorical & set(table)), rows=batch.num_rows)
    return batch_strings


def _first_value(column: pa.Array) -> pa.Array:
    """A list column -> its first element per row (null where the list is null or empty)."""
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    offsets = column.offsets.to_numpy()[:-1]
    values = column.flatten() if column.offset == 0 else column.values
    present = lengths > 0
    indices = pa.array(np.where(present, offsets, 0))
    taken = values.take(indices) if len(values) else pa.nulls(len(column), values.type)
    return pc.if_else(pa.array(present), taken, pa.scalar(None, type=values.type))


def read_csv(path: str, *, null_values: Optional[Sequence[str]] = None) -> pa.Table:
    """A CSV with header; empty fields, and `null_values` (`data.null_values`) when given, are missing values."""
    options = pa_csv.ConvertOptions(strings_can_be_null=True)
    if null_values is not None:
        options.null_values = sorted({"", *null_values})  # an empty cell is always missing, as in ingest
    with filesystem.open_input(path) as handle:  # a local file, gs:// or s3://
        return pa_csv.read_csv(handle, convert_options=options)
