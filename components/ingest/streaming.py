"""The in-process engine's core: a span's files streamed block by block into split sinks.

The same steps as `ingestion.ingest` (parse, type, quarantine, split), applied to
one block of the input at a time (`shards.CsvBlocks`: byte ranges cut at record
boundaries, `data.block_bytes` apart; a Parquet file's row groups), so memory
holds a block or two, never the span. Each block's rows go to the sink as Arrow
list columns per split (`examples.feature_lists`), in input order; the sink
encodes and writes them. Every row lands in the same split, with the same
values, as on the whole-span path: typing and split assignment are per cell and
per row.

Inferred column types need the whole input (INT < FLOAT < BYTES, see
`ingestion.widest_kinds`). The engine types each block with the kinds merged
so far; when a later block widens a kind that earlier blocks were written with,
it tells the sink to start over and streams the input again with the widened
kinds (the common input — types stable from the first block on — is read once;
a column empty in the first blocks costs one more pass).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, Protocol, Sequence, Union

import numpy as np
import pyarrow as pa

from tfxgate.components.ingest import columns as col
from tfxgate.components.ingest.arrow_csv import FileRows, InputError, check_same_header
from tfxgate.components.ingest.examples import feature_lists
from tfxgate.components.ingest.ingestion import check_key, column_kinds, text_columns, typed_rows, widest_kinds
from tfxgate.components.ingest.null_values import DEFAULT_NULL_VALUES
from tfxgate.components.ingest.quarantine import BadRow, enforce_policy
from tfxgate.components.ingest.shards import SHARD_BYTES, CsvBlocks, FilePlan, parse_csv_shard, plan_parquet, read_shard
from tfxgate.components.ingest.splits import split_key_columns

Opener = Callable[[str], object]  # path -> a binary, seekable file object (a context manager)


class SplitSink(Protocol):
    """Where the streamed rows go (the executor's TFRecord and Arrow writers)."""

    def write(self, split: str, batch: pa.RecordBatch) -> None:
        """Appends one block's rows of `split`, as tf.Example list columns."""

    def restart(self) -> None:
        """Drops everything written so far (the input is streamed again with wider kinds)."""


@dataclass
class Streamed:
    """What the engine reports about the rows it handed to the sink."""

    rows_per_split: dict[str, int]
    rows_read: int
    bad_rows: list[BadRow]
    file_sha256: dict[str, str]
    kinds: dict[str, Optional[str]]
    inferred: list[str] = field(default_factory=list)
    passes: int = 1


def ingest_stream(
    paths: Sequence[str],
    *,
    open_file: Opener,
    sink: SplitSink,
    data_format: str,
    splits: dict[str, int],
    rules: Optional[dict[str, col.ColumnRule]] = None,
    key: Optional[str] = None,
    split_key: Optional[Sequence[str]] = None,
    null_values: Sequence[str] = DEFAULT_NULL_VALUES,
    max_bad_rows: Union[int, float] = 0,
    block_bytes: int = SHARD_BYTES,
) -> Streamed:
    """Streams the files of one span into `sink`; the same checks and errors as `ingestion.ingest`.

    Args:
      paths: every input file, in a stable order; open_file: opens one for binary reading.
      sink: receives each block's rows per split; block_bytes: the CSV block size (`data.block_bytes`).
      The rest: as `ingestion.ingest`.

    Raises:
      InputError: empty input, header mismatch, unknown key column.
      TooManyBadRows: more bad rows than `max_bad_rows` allows (after the sink got the good rows:
        the caller discards them).
    """
    if not paths:
        raise InputError("empty input: no files to read")
    rules = rules or {}
    headers = [_header(path, open_file, data_format) for path in paths]
    check_same_header(headers)
    header = headers[0].header
    check_key(key, header)
    hashed = split_key_columns(split_key, header=header, schema_columns=rules)
    settings = dict(splits=splits, rules=rules, key=key, hashed=hashed, null_values=null_values)
    kinds: dict[str, Optional[str]] = {name: rules[name].kind for name in header if name in rules}
    passes = 0
    while True:
        passes += 1
        counted = _Counted(splits)
        blocks = _blocks(
            paths,
            open_file=open_file,
            data_format=data_format,
            block_bytes=block_bytes,
            null_values=null_values,
            counted=counted,
        )
        widened = _stream_blocks(blocks, sink=sink, kinds=kinds, counted=counted, settings=settings)
        if widened is None:
            break
        logging.info("ingest: inferred types widened after the first blocks; streaming the input again (%s)", widened)
        kinds = widened
        sink.restart()
    if counted.rows_read == 0:
        raise InputError(f"empty input: {', '.join(paths)} contain(s) a header but no rows")
    enforce_policy(counted.bad_rows, max_bad_rows=max_bad_rows, total_rows=counted.rows_read)
    return Streamed(
        rows_per_split={name: int(n) for name, n in zip(splits, counted.per_split, strict=True)},
        rows_read=counted.rows_read,
        bad_rows=counted.bad_rows,
        file_sha256=counted.sha256,
        kinds={name: kinds.get(name) for name in header},
        inferred=[name for name in header if name not in rules],
        passes=passes,
    )


class _Counted:
    """Running totals of one pass."""

    def __init__(self, splits: dict[str, int]):
        self.per_split = np.zeros(len(splits), dtype=np.int64)
        self.rows_read = 0
        self.bad_rows: list[BadRow] = []
        self.sha256: dict[str, str] = {}


def _stream_blocks(blocks: Iterator[FileRows], *, sink, kinds, counted: _Counted, settings) -> Optional[dict]:
    """One pass over the blocks; returns the widened kinds when a block widened a kind already written."""
    splits, rules = settings["splits"], settings["rules"]
    names = list(splits)
    for rows in blocks:
        texts, problems = text_columns(rows.table, rows.header)
        own, casts = column_kinds(texts, rules=rules, at_least=kinds)
        merged = widest_kinds(kinds, own) if counted.rows_read else widest_kinds(own, kinds)
        if counted.rows_read and merged != kinds:
            return merged  # blocks already written used the narrower kinds
        kinds.update(merged)
        casts = {name: values for name, values in casts.items() if own.get(name) == kinds[name]}
        good = typed_rows([rows], texts, problems, kinds=kinds, rules=rules, casts=casts)
        counted.rows_read += rows.table.num_rows + len(rows.bad_rows)
        counted.bad_rows += good.bad_rows
        length = len(next(iter(good.texts.values()))) if good.texts else 0
        split_index = good.split_index(splits, key=settings["key"], kinds=kinds, hashed=settings["hashed"])
        counted.per_split += np.bincount(split_index, minlength=len(names))
        for position, name in enumerate(names):
            take = np.flatnonzero(split_index == position)
            if len(take) == 0:
                continue
            indices = pa.array(take) if len(take) < length else None
            columns = {n: _take(v, indices) for n, v in good.columns.items()}
            sink.write(name, feature_lists(columns, kinds, length=len(take)))
    return None


def _take(values: Optional[pa.Array], indices: Optional[pa.Array]) -> Optional[pa.Array]:
    if values is None or indices is None:
        return values
    return values.take(indices)


def _blocks(paths, *, open_file: Opener, data_format, block_bytes, null_values, counted) -> Iterator[FileRows]:
    """Every block of every file, parsed (raw binary cells with line numbers), in file order."""
    for path in paths:
        with open_file(path) as handle:
            if data_format == "csv":
                blocks = CsvBlocks(path, handle, block_bytes=block_bytes)
                for shard, data in blocks:
                    yield parse_csv_shard(shard, data, null_values=null_values)
                counted.sha256[path] = blocks.sha256
            else:
                plan = plan_parquet(path, handle)
                for shard in plan.shards:
                    yield read_shard(shard, handle, null_values=null_values)
                counted.sha256[path] = plan.sha256


def _header(path: str, open_file: Opener, data_format: str) -> FilePlan:
    """A file's columns, read from its first line (CSV) or footer (Parquet)."""
    with open_file(path) as handle:
        if data_format == "csv":
            return FilePlan(path, CsvBlocks(path, handle, block_bytes=1 << 16).header, "")
        import pyarrow.parquet as pq

        names = pq.ParquetFile(handle).schema_arrow.names
        if not names:
            raise InputError(f"empty input: {path} has no columns")
        return FilePlan(path, names, "")
