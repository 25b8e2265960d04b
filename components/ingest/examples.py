"""Typed Arrow columns -> serialized tf.Examples -> gzipped TFRecord files.

The conversion is tfx_bsl's C++ `RecordBatchToExamplesEncoder`, fed list arrays
built with numpy offsets (no per-row Python). Empty cells become features with
zero values, exactly as CsvExampleGen writes them (`int64_list {}`), which the
curated taxi schema and the trainer's RaggedFeature parsing expect; a column that
is empty everywhere (no type) becomes a feature with no value list, also as
CsvExampleGen writes it. Output files follow ExampleGen's layout
(`Split-<name>/data_tfrecord-00000-of-00001.gz`), so every TFX consumer reads them.
"""

from __future__ import annotations

import json
import os
from typing import Optional

import numpy as np
import pyarrow as pa
from tfx_bsl.coders import example_coder

from tfxgate.artifacts.examples import ARROW_DIR
from tfxgate.components.ingest.columns import BYTES, FLOAT, INT

FILE_NAME = "data_tfrecord-00000-of-00001.gz"
_CHUNK_ROWS = 65536
# Level 1 gzip: a third of the default level's CPU for files ~15% larger.
GZIP_LEVEL = 1
_LIST_TYPES = {INT: pa.int64(), FLOAT: pa.float32(), BYTES: pa.binary()}
_VALUE_TYPES = {INT: pa.int64(), FLOAT: pa.float64(), BYTES: pa.binary()}  # what typing gives each kind


def as_feature_list(values: Optional[pa.Array], kind: Optional[str], *, length: int) -> pa.Array:
    """One column as a list array: [v] per present cell, [] per empty cell, null for a typeless column."""
    if kind is None:
        return pa.nulls(length, pa.list_(pa.binary()))
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(valid, out=offsets[1:])
    flat = values.drop_null().cast(_LIST_TYPES[kind])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), flat)


def feature_lists(columns: dict[str, pa.Array], kinds: dict[str, Optional[str]], *, length: int) -> pa.RecordBatch:
    """The columns as the list arrays a tf.Example holds (what decoding the written files gives back)."""
    names = list(columns)
    return pa.RecordBatch.from_arrays([as_feature_list(columns[n], kinds[n], length=length) for n in names], names)


def serialize(columns: dict[str, pa.Array], kinds: dict[str, Optional[str]], *, length: int):
    """Yields chunks (lists) of serialized tf.Examples for the given typed columns."""
    yield from serialize_batch(feature_lists(columns, kinds, length=length))


def serialize_batch(batch: pa.RecordBatch):
    encoder = example_coder.RecordBatchToExamplesEncoder()
    for start in range(0, batch.num_rows, _CHUNK_ROWS):
        yield encoder.encode(batch.slice(start, _CHUNK_ROWS))


def arrow_copy_path(examples_uri: str, split: str) -> str:
    """Ingest's Arrow copy of one split: `<uri>/arrow/Split-<split>.arrow` (Arrow IPC file, lz4)."""
    return os.path.join(examples_uri, ARROW_DIR, f"Split-{split}.arrow")


def write_arrow_copy(examples_uri: str, split: str, batch: pa.RecordBatch) -> None:
    """The same rows as Arrow IPC, beside the splits: `<uri>/arrow/Split-<split>.arrow`.

    Readers that want columns (Validate, DataDrift) read this in well under a
    second instead of decoding every tf.Example; stock TFX readers only open
    `Split-<name>/*` and never see it.
    """
    writer = _ArrowCopy(arrow_copy_path(examples_uri, split))
    writer.write(batch)
    writer.close()


class _ArrowCopy:
    """An Arrow IPC file written batch by batch through `tf.io.gfile` (local, gs://), with a size sidecar.

    The sidecar `Split-<name>.json` ({"rows", "bytes"}: in-memory Arrow bytes) lets a
    reader decide whether the split fits its memory bound before loading it.
    """

    def __init__(self, path: str):
        import tensorflow as tf

        tf.io.gfile.makedirs(os.path.dirname(path))
        self.path, self.rows, self.bytes = path, 0, 0
        self._handle = tf.io.gfile.GFile(path, "wb")
        self._writer = None

    def write(self, batch: pa.RecordBatch) -> None:
        if self._writer is None:
            options = pa.ipc.IpcWriteOptions(compression="lz4")
            sink = pa.PythonFile(_Writable(self._handle), mode="w")
            self._writer = pa.ipc.new_file(sink, batch.schema, options=options)
        self._writer.write_batch(batch)
        self.rows += batch.num_rows
        self.bytes += batch.nbytes

    def close(self, *, empty: Optional[pa.RecordBatch] = None) -> None:
        import tensorflow as tf

        if self._writer is None and empty is not None:
            self.write(empty)
        if self._writer is not None:
            self._writer.close()
        self._handle.close()
        sidecar = os.path.splitext(self.path)[0] + ".json"
        with tf.io.gfile.GFile(sidecar, "w") as handle:
            handle.write(json.dumps({"rows": self.rows, "bytes": self.bytes}))


class _Writable:
    """A GFile as the file object Arrow's `PythonFile` expects (GFile has no `closed`)."""

    def __init__(self, handle):
        self._handle, self.closed = handle, False

    def write(self, data) -> int:
        self._handle.write(bytes(data))
        return len(data)

    def tell(self) -> int:
        return self._handle.tell()

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        self.closed = True  # the owner closes the GFile


class SplitWriters:
    """The in-process engine's sink (`streaming.SplitSink`): per split, gzipped TFRecords, and the Arrow
    copy when a configured stage reads it; each block is encoded (C++) and appended as it comes.

    Args:
      split_dirs: split name -> its `Split-<name>` directory.
      examples_uri: the artifact's root, for the Arrow copy; None writes no copy.
    """

    def __init__(self, split_dirs: dict[str, str], *, examples_uri: Optional[str]):
        self._split_dirs, self._examples_uri = split_dirs, examples_uri
        self._open()

    def _open(self) -> None:
        import tensorflow as tf  # only the executor process writes files

        options = tf.io.TFRecordOptions(compression_type="GZIP", compression_level=GZIP_LEVEL)
        self._records, self._copies = {}, {}
        self._encoder = example_coder.RecordBatchToExamplesEncoder()
        for name, directory in self._split_dirs.items():
            tf.io.gfile.makedirs(directory)
            self._records[name] = tf.io.TFRecordWriter(os.path.join(directory, FILE_NAME), options)
            if self._examples_uri is not None:
                self._copies[name] = _ArrowCopy(arrow_copy_path(self._examples_uri, name))

    def write(self, split: str, batch: pa.RecordBatch) -> None:
        writer = self._records[split]
        for start in range(0, batch.num_rows, _CHUNK_ROWS):
            for record in self._encoder.encode(batch.slice(start, _CHUNK_ROWS)):
                writer.write(record)
        if split in self._copies:
            self._copies[split].write(batch)

    def restart(self) -> None:
        self.close(kinds=None)
        self._open()

    def close(self, *, kinds: Optional[dict[str, Optional[str]]]) -> None:
        """Closes every file; `kinds` (the columns' kinds) gives a split without rows its Arrow schema."""
        for writer in self._records.values():
            writer.close()
        for copy in self._copies.values():
            copy.close(empty=feature_lists(_empty_columns(kinds), kinds, length=0) if kinds is not None else None)


def _empty_columns(kinds: dict[str, Optional[str]]) -> dict[str, Optional[pa.Array]]:
    return {name: None if kind is None else pa.array([], _VALUE_TYPES[kind]) for name, kind in kinds.items()}


def write_split(split_dir: str, chunks) -> int:
    """Writes serialized examples to `split_dir/FILE_NAME`; returns how many."""
    import tensorflow as tf  # only the executor process writes files

    tf.io.gfile.makedirs(split_dir)
    options = tf.io.TFRecordOptions(compression_type="GZIP", compression_level=GZIP_LEVEL)
    count = 0
    with tf.io.TFRecordWriter(os.path.join(split_dir, FILE_NAME), options) as writer:
        for chunk in chunks:
            for record in chunk:
                writer.write(record)
            count += len(chunk)
    return count
