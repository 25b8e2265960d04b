"""Deterministic hash splits, vectorised.

Buckets work like ExampleGen's `SplitConfig`: splits `{train: 2, eval: 1}` put a
row in `train` when its hash modulo 3 is 0 or 1, else in `eval`.

- **By key column** the hash is exactly CsvExampleGen's (`partition_feature_name`):
  SHA-256 of the key's deterministic `tf.train.Feature` serialization. Rows land
  in the same split as with CsvExampleGen, on any machine. Only distinct key
  values are hashed, so a key with few values costs almost nothing.
- **By row** the hash combines a 64-bit SipHash (pandas' `hash_array`, fixed key)
  of every raw cell text. It is stable across reruns and machines but is not
  CsvExampleGen's (that one hashes each serialized example, one Python call per
  row): split sizes agree with CsvExampleGen's statistically, not row for row.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tfxgate.components.ingest.columns import BYTES, INT

_MIX = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio odd constant: spreads bits when combining columns


def split_of_buckets(hashes: np.ndarray, buckets: dict[str, int]) -> np.ndarray:
    """Split index (position in `buckets`) of each hash, as ExampleGen assigns buckets."""
    bounds = np.cumsum(list(buckets.values()))
    return np.searchsorted(bounds, hashes % np.uint64(bounds[-1]), side="right").astype(np.int64)


def row_hashes(text_columns: list[pa.Array]) -> np.ndarray:
    """A uint64 hash per row over the raw text of all its cells (empty cells included)."""
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
    """Split index per row: by key column when `key` is set, else by row hash."""
    if key is None:
        return split_of_buckets(row_hashes(text_columns), buckets)
    total = int(sum(buckets.values()))
    bucket = key_buckets(key_values, kind=key_kind, key=key, total_buckets=total)
    bounds = np.cumsum(list(buckets.values()))
    return np.searchsorted(bounds, bucket, side="right").astype(np.int64)
