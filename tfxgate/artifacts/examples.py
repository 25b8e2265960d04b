"""Reader of an Examples artifact: its recorded facts (Ingest's properties), its rows, its Quarantine's bad rows.

Property names follow components/ingest/executor.py: `rows_per_split`
(JSON), `rows_read`, `bad_rows`, `input_files_sha256` (JSON: path -> sha256),
plus TFX's `span`, `version`, `split_names` and `input_fingerprint`. The rows
of a split (`read_split`) come from Ingest's Arrow copy
(`<uri>/arrow/Split-<name>.arrow`, components/ingest/examples.py) when there is
one, else from the gzipped TFRecords of tf.Example every ExampleGen writes
(`<uri>/Split-<name>/*`). The Quarantine artifact holds `bad_rows.jsonl`
(components/ingest/quarantine.py).
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from tfxgate.mlmd.graph import value
from tfxgate.storage import filesystem

BAD_ROWS_JSONL = "bad_rows.jsonl"
ARROW_DIR = "arrow"  # Ingest's Arrow copy of each split: `<uri>/arrow/Split-<name>.arrow`
# The config key bounding what a stage loads into memory at once, and its default.
MEMORY_KEY = "runner.max_in_memory_bytes"
DEFAULT_MAX_IN_MEMORY_BYTES = 2 << 30
# In-memory Arrow bytes per byte of gzipped tf.Example (taxi data: ~6); for splits without Ingest's sidecar.
_GZIP_EXPANSION = 8


class SplitTooLarge(MemoryError):
    """A split is bigger than the stage may load into memory (`runner.max_in_memory_bytes`)."""


@dataclass
class Examples:
    artifact_id: int
    uri: str
    span: Optional[int]
    version: Optional[int]
    rows_per_split: dict[str, int]
    rows_read: Optional[int]
    bad_rows: Optional[int]
    input_files: dict[str, str]  # path -> sha256 of the file's bytes
    input_fingerprint: Optional[str]  # TFX's size/mtime fingerprint of the input
    quarantine_uri: Optional[str] = None


def read(artifact, *, quarantine_uri: Optional[str] = None) -> Examples:
    """An Examples artifact's facts; `quarantine_uri` is its sibling Quarantine's directory, if any."""
    rows = value(artifact, "rows_per_split")
    rows_per_split = json.loads(rows) if rows else {}
    for split in json.loads(value(artifact, "split_names") or "[]"):
        counted = value(artifact, f"rows_{split}")  # the contract's per-split form
        if counted is not None:
            rows_per_split.setdefault(split, counted)
    hashes = value(artifact, "input_files_sha256") or value(artifact, "fingerprints")
    return Examples(
        artifact_id=artifact.id,
        uri=artifact.uri,
        span=value(artifact, "span"),
        version=value(artifact, "version"),
        rows_per_split=rows_per_split,
        rows_read=value(artifact, "rows_read"),
        bad_rows=value(artifact, "bad_rows"),
        input_files=json.loads(hashes) if hashes else {},
        input_fingerprint=value(artifact, "input_fingerprint"),
        quarantine_uri=quarantine_uri,
    )


def quarantined_rows(quarantine_uri: str, *, limit: int) -> list[dict]:
    """The first `limit` rows the Quarantine artifact holds ([] when its file is gone)."""
    path = Path(quarantine_uri) / BAD_ROWS_JSONL
    if not path.exists():
        return []
    with path.open() as handle:
        return [json.loads(line) for line in itertools.islice(handle, limit)]


def read_split(examples_uri: str, split: str):
    """Every tf.Example of one split as Arrow list columns (a Table from the Arrow copy, else a RecordBatch).

    Reads Ingest's Arrow copy of the split (the same list columns) when there is
    one; else decodes the TFRecords, as for any other ExampleGen's output.

    Raises:
      FileNotFoundError: `Split-<split>` holds no example file (and there is no Arrow copy).
    """
    arrow_copy = os.path.join(examples_uri, ARROW_DIR, f"Split-{split}.arrow")
    if filesystem.isfile(arrow_copy):  # the artifact may be on an object store (a remote pipeline root)
        import pyarrow.feather as feather

        with filesystem.open_input(arrow_copy) as handle:
            return feather.read_table(handle)
    return _decode_split(os.path.join(examples_uri, f"Split-{split}"))


# Rows per record batch when a split is read batch by batch from its TFRecords. The decoded batch, its
# serialized records and the reader's copies take ~6.5 KB per taxi row: at 65536 rows DataDrift's peak
# was 430 MiB above its imports (and still rising with the split), at 8192 rows 80 MiB, flat from 66k
# to 666k rows, and no slower (benchmarks/README.md, scale_10m).
BATCH_ROWS = 8192


def split_batches(examples_uri: str, split: str, *, batch_rows: int = BATCH_ROWS):
    """One split's tf.Examples as Arrow record batches (list columns), one batch in memory at a time.

    From Ingest's Arrow copy (an IPC file: each of its record batches, one block
    of Ingest's, is read when it is yielded), else from the gzipped TFRecords,
    `batch_rows` records decoded at a time. What `read_split` returns whole.

    Raises:
      FileNotFoundError: `Split-<split>` holds no example file (and there is no Arrow copy).
    """
    arrow_copy = os.path.join(examples_uri, ARROW_DIR, f"Split-{split}.arrow")
    if filesystem.isfile(arrow_copy):
        import pyarrow as pa

        with filesystem.open_input(arrow_copy) as handle:
            reader = pa.ipc.open_file(handle)
            for index in range(reader.num_record_batches):
                yield reader.get_batch(index)
        return
    from tfx_bsl.coders import example_coder

    decoder = example_coder.ExamplesToRecordBatchDecoder()
    for records in record_batches(os.path.join(examples_uri, f"Split-{split}"), batch_rows=batch_rows):
        yield decoder.DecodeBatch(records)


def record_batches(split_dir: str, *, batch_rows: int = BATCH_ROWS):
    """The serialized tf.Examples of a split directory (`<uri>/Split-<name>`), `batch_rows` at a time, in file order.

    Raises:
      FileNotFoundError: the directory holds no example file.
    """
    import tensorflow as tf

    files = sorted(filesystem.glob(os.path.join(split_dir, "*")))
    if not files:
        raise FileNotFoundError(f"no example files in {split_dir}")
    for chunk in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(batch_rows):
        yield list(chunk.numpy())


def split_bytes(examples_uri: str, split: str) -> int:
    """About how many bytes the split takes in memory as Arrow columns (what `read_split` returns).

    Ingest records it beside its Arrow copy (`Split-<name>.json`); for another
    ExampleGen's output it is estimated from the gzipped TFRecords' size.
    """
    sidecar = os.path.join(examples_uri, ARROW_DIR, f"Split-{split}.json")
    if filesystem.isfile(sidecar):
        return int(json.loads(filesystem.read_text(sidecar))["bytes"])
    files = filesystem.glob(os.path.join(examples_uri, f"Split-{split}", "*"))
    return _GZIP_EXPANSION * sum(filesystem.stat(path)[0] for path in files)


def check_fits(examples_uri: str, split: str, *, limit: Optional[int], stage: str, beyond: str) -> None:
    """Raises SplitTooLarge, naming the split, its size, the bound and `MEMORY_KEY`, when the split is over
    `limit` (None: `DEFAULT_MAX_IN_MEMORY_BYTES`); `beyond` says what the user can do instead."""
    limit = DEFAULT_MAX_IN_MEMORY_BYTES if limit is None else limit
    size = split_bytes(examples_uri, split)
    if size > limit:
        raise SplitTooLarge(
            f"{stage}: split {split!r} of {examples_uri} takes about {size / 2**20:.0f} MiB in memory, above "
            f"{MEMORY_KEY}={limit} ({limit / 2**20:.0f} MiB); {beyond}"
        )


def _decode_split(split_dir: str):
    from tfx_bsl.coders import example_coder

    return example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(read_records(split_dir))


def read_records(split_dir: str) -> list[bytes]:
    """Every serialized tf.Example in a split directory (`<uri>/Split-<name>`), in file order.

    What a model's serving signature takes; `split_records` decodes them too.

    Raises:
      FileNotFoundError: the directory holds no example file.
    """
    records: list[bytes] = []
    # Batched reads: one Python step per 64k records, not per record (1M rows: seconds, not minutes).
    for chunk in record_batches(split_dir, batch_rows=65536):
        records.extend(chunk)
    return records


def split_records(examples_uri: str, split: str):
    """(every serialized tf.Example of one split, the same examples decoded as one Arrow RecordBatch).

    For whoever needs both, e.g. SliceEval's fast engine: the serialized examples
    go through the model's serving signature, the Arrow columns are sliced on.
    """
    from tfx_bsl.coders import example_coder

    records = read_records(os.path.join(examples_uri, f"Split-{split}"))
    return records, example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(records)
