"""Deterministic hash splits, vectorised.

Buckets work like ExampleGen's `SplitConfig`: splits `{train: 2, eval: 1}` put a
row in `train` when its hash modulo 3 is 0 or 1, else in `eval`.

- **By key column** the hash is exactly CsvExampleGen's (`partition_feature_name`):
  SHA-256 of the key's deterministic `tf.train.Feature` serialization. Rows land
  in the same split as with CsvExampleGen, on any machine. Only distinct key
  values are hashed, so a key with few values costs almost nothing.
- **By row** the hash combines a 64-bit SipHash (pandas' `hash_array`, fixed key)
  of the raw cell texts of the split key's columns (`data.split_key`; by default
  the curated schema's columns, else the header's), always in sorted column
  order. So adding, removing or reordering any other column, or appending rows,
  never moves a row to another split. It is stable across reruns and machines
  but is not CsvExampleGen's (that one hashes each serialized example, one
  Python call per row): split sizes agree with CsvExampleGen's statistically,
  not row for row. A missing-value token hashes like the empty cell.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Optional, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tfxgate.components.ingest.arrow_csv import InputError
from tfxgate.components.ingest.columns import BYTES, INT

_MIX = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio odd constant: spreads bits when combining columns


def split_of_buckets(hashes: np.ndarray, buckets: dict[str, int]) -> np.ndarray:
    """Split index (position in `buckets`) of each hash, as ExampleGen assigns buckets."""
    bounds = np.cumsum(list(buckets.values()))
    return np.searchsorted(bounds, hashes % np.uint64(bounds[-1]), side="right").astype(np.int64)


def split_key_columns(
    split_key: Optional[Sequence[str]], *, header: Sequence[str], schema_columns: Iterable[str] = ()
) -> list[str]:
    """The columns whose cells are hashed for the split, in the fixed (sorted) order they are combined in.

    Args:
      split_key: `data.split_key`, when configured.
      header: the input's columns.
      schema_columns: the curated schema's features (none when the types are inferred).

    Raises:
      InputError: a configured column is not in the input, naming it.

    >>> split_key_columns(None, header=["b", "extra", "a"], schema_columns=["a", "b", "label"])
    ['a', 'b']
    """
    if split_key:
        missing = [name for name in split_key if name not in header]
        if missing:
            named = ", ".join(map(repr, missing))
            raise InputError(f"data.split_key: {named} not in the input (columns: {list(header)})")
        return sorted(set(split_key))
    in_schema = sorted(set(schema_columns) & set(header))
    return in_schema or sorted(header)


def row_hashes(text_columns: list[pa.Array]) -> np.ndarray:
    """A uint64 hash per row over the raw text of the given cells (empty cells included), in the given order."""
    combined = np.zeros(len(text_columns[0]) if text_columns else 0, dtype=np.uint64)
    for column in text_columns:
        combined = (combined * _MIX) ^ _cell_hashes(column)
    return combined


def _cell_hashes(column: pa.Array) -> np.ndarray:
    """Hashes distinct values once, then gathers (fast for low-cardinality columns)."""
    encoded = pc.dictionary_encode(column)
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False).astype(object)
    hashed = np.append(pd.util.hash_array(distinct, categorize=False), np.uint64(0x5EED))  # last: empty cell
    indices = pc.fill_null(encoded.indices, len(distinct)).to_numpy(zero_copy_only=False)
    return hashed[indices]


def key_buckets(values: pa.Array, *, kind: str, key: str, total_buckets: int) -> np.ndarray:
    """`sha256(Feature(key).SerializeToString(deterministic=True)) % total_buckets` per row."""
    if kind not in (INT, BYTES):
        raise ValueError(f"data.key: column {key!r} is {kind or 'empty'}; split keys must be integer or string columns")
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist() + [None]
    bucket_of = np.array(
        [int(hashlib.sha256(_feature_bytes(v, kind)).hexdigest(), 16) % total_buckets for v in distinct],
        dtype=np.int64,
    )
    indices = pc.fill_null(encoded.indices, len(distinct) - 1).to_numpy(zero_copy_only=False)
    return bucket_of[indices]


def _feature_bytes(value, kind: str) -> bytes:
    """Deterministic serialization of a one-value (or empty) tf.train.Feature, without protobuf."""
    if kind == INT:
        inner = b"" if value is None else _varint(value & 0xFFFFFFFFFFFFFFFF)
        payload = (b"\x0a" + _varint(len(inner)) + inner) if inner else b""
        field_tag = b"\x1a"  # Feature.int64_list = 3
    else:
        payload = b"" if value is None else b"\x0a" + _varint(len(value)) + value
        field_tag = b"\x0a"  # Feature.bytes_list = 1
    return field_tag + _varint(len(payload)) + payload


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def assign_splits(*, buckets: dict[str, int], text_columns: list[pa.Array], key_values=None, key_kind=None, key=None):
    """Split index per row: by key column when `key` is set, else by the hash of `text_columns`
    (the split key's columns, in `split_key_columns` order)."""
    if key is None:
        return split_of_buckets(row_hashes(text_columns), buckets)
    total = int(sum(buckets.values()))
    bucket = key_buckets(key_values, kind=key_kind, key=key, total_buckets=total)
    bounds = np.cumsum(list(buckets.values()))
    return np.searchsorted(bounds, bucket, side="right").astype(np.int64)
