"""Slices as group-bys on Arrow: which rows of the evaluation data fall into which slice.

Pure pyarrow/numpy (no TensorFlow/TFMA import). A slice key is TFMA's: a tuple
of (column, value) sorted by column name, `()` for the overall slice; a row
without a value for a sliced column is in no slice of that slicing (as in TFMA).
Numeric buckets become a derived `<feature>_bucket` column of labels such as
`[6,12)` (`Buckets.label`), vectorised here for both engines.
"""

from __future__ import annotations

from typing import Iterator, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tfxgate.components.slice_eval.settings import Buckets, EvaluationStage, slice_columns

SliceKey = tuple  # ((column, value), ...), sorted by column; () is the overall slice
Data = Union[pa.RecordBatch, pa.Table]


def add_bucket_columns(data: Data, buckets: list[Buckets]) -> Data:
    """Adds `<feature>_bucket` list<binary> columns (e.g. `[6,12)`) that the slices can cut on."""
    for spec in buckets:
        if spec.feature not in data.schema.names:
            raise ValueError(f"bucketed slice: feature {spec.feature!r} is not in the evaluation data")
        values, present = first_values(data.column(data.schema.get_field_index(spec.feature)), spec.feature)
        edges = np.array(spec.buckets, dtype=np.float64)
        names = [spec.label(edges[0] - 1)]
        names += [spec.label(low) for low in spec.buckets[:-1]] + [spec.label(edges[-1])]
        index = np.searchsorted(edges, np.asarray(values, dtype=np.float64), side="right")
        labels = np.array([n.encode() for n in names], dtype=object)[index]
        offsets = np.concatenate([[0], np.cumsum(present)]).astype(np.int32)
        column = pa.ListArray.from_arrays(pa.array(offsets), pa.array(labels[present].tolist(), type=pa.binary()))
        if isinstance(data, pa.Table):
            data = data.append_column(spec.column, column)
        else:  # pyarrow 10 has no RecordBatch.append_column
            data = pa.RecordBatch.from_arrays([*data.columns, column], [*data.schema.names, spec.column])
    return data


def first_values(column, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(the value of each row, whether the row has one) of a tf.Example list column (or a plain column).

    Raises:
      ValueError: a row holds several values (TFMA would put it in several slices;
        the fast engine does not: use `engine: beam`).
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_list(column.type) and not pa.types.is_large_list(column.type):
        present = ~np.asarray(column.is_null())
        return np.asarray(column.fill_null(_zero(column.type)).to_numpy(zero_copy_only=False)), present
    lengths = np.asarray(pc.list_value_length(column).fill_null(0))
    if (lengths > 1).any():
        row = int(np.argmax(lengths > 1))
        raise ValueError(
            f"slice feature {name!r} has {lengths[row]} values in row {row}: the fast engine slices on"
            " single-valued features only (set stages.evaluation.engine: beam)"
        )
    present = lengths == 1
    flat = column.flatten()  # the values of the rows that have one, in row order
    if _is_text(flat.type):
        values = np.empty(len(column), dtype=object)
        values[present] = flat.to_pylist()
    else:
        numbers = flat.to_numpy(zero_copy_only=False)
        values = np.zeros(len(column), dtype=numbers.dtype)
        values[present] = numbers
    return values, present


def _is_text(arrow_type) -> bool:
    return pa.types.is_binary(arrow_type) or pa.types.is_string(arrow_type) or pa.types.is_large_binary(arrow_type)


def _zero(arrow_type):
    return b"" if _is_text(arrow_type) else 0


def slices(data: Data, stage: EvaluationStage) -> Iterator[tuple[SliceKey, np.ndarray]]:
    """(slice key, row indices) of every slice of every configured slicing, in the config's order."""
    rows = np.arange(data.num_rows)
    for columns in [slice_columns(s) for s in stage.slices]:
        if not columns:
            yield (), rows
            continue
        keys = sorted(set(columns))
        present = np.ones(data.num_rows, dtype=bool)
        arrays = {}
        for name in keys:
            if name not in data.schema.names:
                raise ValueError(f"slice feature {name!r} is not in the evaluation data")
            values, has = first_values(data.column(data.schema.get_field_index(name)), name)
            arrays[name], present = values, present & has
        table = pa.table({**{n: pa.array(arrays[n][present].tolist()) for n in keys}, "row": rows[present]})
        grouped = table.group_by(keys).aggregate([("row", "list")])
        key_values = {n: grouped.column(n).to_pylist() for n in keys}
        for i, members in enumerate(grouped.column("row_list").to_pylist()):
            yield tuple((n, key_values[n][i]) for n in keys), np.asarray(members, dtype=np.int64)
