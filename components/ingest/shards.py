"""Cutting input files into shards that Beam workers read independently.

A CSV file is cut into byte ranges of about `shard_bytes`, each ending just after
a newline that is outside quotes (an even number of `"` before it), so no record
— not even one whose quoted value holds newlines — is split between shards. Every
shard knows the file line number of its first row, so row numbers in the
quarantine stay exact. A Parquet file is cut at its row groups. Planning streams
each file once (C-speed byte counting, no parsing) and fingerprints it on the way.
Pure Python and Arrow; file handles come from the caller (TFX's `fileio` in the
executor), so any file system works.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pyarrow.parquet as pq

from tfxgate.components.ingest.arrow_csv import (
    FileRows,
    InputError,
    parse_header,
    read_csv_bytes,
    with_null_tokens,
)
from tfxgate.components.ingest.null_values import DEFAULT_NULL_VALUES

SHARD_BYTES = 16 << 20
_READ_BYTES = 4 << 20


@dataclass(frozen=True)
class Shard:
    """One independently readable part of an input file."""

    path: str
    start: int  # CSV: byte offset; Parquet: first row group
    stop: int  # CSV: byte offset (exclusive); Parquet: last row group (exclusive)
    first_line: int  # CSV: file line number of the first row; Parquet: 1-based index of the first row
    header: bytes = b""  # CSV: the file's header line, prepended to the shard's bytes to parse it


@dataclass
class FilePlan:
    """An input file: its columns, content hash, row-free-ness and shards."""

    path: str
    header: list[str]
    sha256: str
    shards: list[Shard] = field(default_factory=list)


def plan_csv(path: str, handle, *, shard_bytes: int = SHARD_BYTES) -> FilePlan:
    """Streams a CSV file once: header, SHA-256, and shards cut at record boundaries.

    Raises:
      InputError: when the file is empty or has an empty header line.
    """
    blocks = CsvBlocks(path, handle, block_bytes=shard_bytes)
    plan = FilePlan(path, [], "", [shard for shard, _ in blocks])
    plan.header, plan.sha256 = blocks.header, blocks.sha256
    return plan


class CsvBlocks:
    """Iterates a CSV file as (shard, its bytes), cut at record boundaries about `block_bytes` apart.

    One pass, holding at most about two blocks: what Ingest's in-process engine
    parses block by block, and what `plan_csv` records as Beam shards. `header`
    is known after construction, `sha256` (of the whole file) after the last block.

    Raises:
      InputError: when the file is empty or has an empty header line (on construction).
    """

    def __init__(self, path: str, handle, *, block_bytes: int = SHARD_BYTES):
        self.path, self._handle, self._block_bytes = path, handle, max(int(block_bytes), 1)
        self._digest = hashlib.sha256()
        buffer = b""
        while b"\n" not in buffer:
            block = self._read()
            if not block:
                break
            buffer += block
        if not buffer.strip():
            raise InputError(f"empty input: {path} has no header and no rows")
        header_end = buffer.find(b"\n") + 1 if b"\n" in buffer else len(buffer)
        self.header_line = buffer[:header_end]
        self.header = parse_header(self.header_line.rstrip(b"\n"))
        if not any(self.header):
            raise InputError(f"empty input: {path} has an empty header line")
        self._start, self._buffer = header_end, buffer[header_end:]
        self.sha256: str = ""

    def _read(self) -> bytes:
        block = self._handle.read(min(_READ_BYTES, self._block_bytes))  # buffer: about two blocks at most
        self._digest.update(block)
        return block

    def __iter__(self):
        position, line = self._start, 2
        quotes = self.header_line.count(b'"') % 2
        buffer, at_end = self._buffer, False
        self._buffer = b""
        while buffer or not at_end:
            while not at_end and len(buffer) < self._block_bytes:
                block = self._read()
                buffer, at_end = buffer + block, not block
            cut = len(buffer) if at_end else _record_boundary(buffer, quotes_before=quotes, near=self._block_bytes)
            if not cut:  # no record ends in the buffer (a huge quoted value): read on
                block = self._read()
                buffer, at_end = buffer + block, not block
                continue
            if buffer[:cut].strip():
                yield Shard(self.path, position, position + cut, line, self.header_line), buffer[:cut]
            line += buffer.count(b"\n", 0, cut)
            quotes = (quotes + buffer.count(b'"', 0, cut)) % 2
            position, buffer = position + cut, buffer[cut:]
        self.sha256 = self._digest.hexdigest()


def _record_boundary(buffer: bytes, *, quotes_before: int, near: int) -> int:
    """Offset just after a newline outside quotes: the last one before `near`, else the first after; 0 if none."""
    newline = buffer.rfind(b"\n", 0, near)
    quotes = quotes_before + buffer.count(b'"', 0, max(newline, 0))
    while newline >= 0:
        if quotes % 2 == 0:
            return newline + 1
        previous = buffer.rfind(b"\n", 0, newline)
        quotes -= buffer.count(b'"', max(previous, 0), newline)
        newline = previous
    newline = buffer.find(b"\n", near)
    quotes = quotes_before + buffer.count(b'"', 0, max(newline, 0))
    while newline >= 0:
        if quotes % 2 == 0:
            return newline + 1
        following = buffer.find(b"\n", newline + 1)
        quotes += buffer.count(b'"', newline, following if following >= 0 else len(buffer))
        newline = following
    return 0


def parse_csv_shard(shard: Shard, data: bytes, *, null_values: Sequence[str] = DEFAULT_NULL_VALUES) -> FileRows:
    """Parses a CSV shard's bytes (as `CsvBlocks` yields them) into raw columns with file line numbers."""
    return read_csv_bytes(shard.path, shard.header + data, first_line=shard.first_line, null_values=null_values)


def plan_parquet(path: str, handle) -> FilePlan:
    """A Parquet file's columns, SHA-256 and one shard per row group."""
    metadata = pq.ParquetFile(handle).metadata
    names = pq.ParquetFile(handle).schema_arrow.names
    if not names:
        raise InputError(f"empty input: {path} has no columns")
    handle.seek(0)
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(_READ_BYTES), b""):
        digest.update(block)
    plan = FilePlan(path, names, digest.hexdigest())
    first = 1
    for group in range(metadata.num_row_groups):
        plan.shards.append(Shard(path, group, group + 1, first))
        first += metadata.row_group(group).num_rows
    return plan


def read_shard(shard: Shard, handle, *, null_values: Sequence[str] = DEFAULT_NULL_VALUES) -> FileRows:
    """Parses one shard into raw columns with file line numbers (see `arrow_csv`)."""
    if shard.header:
        handle.seek(shard.start)
        return parse_csv_shard(shard, handle.read(shard.stop - shard.start), null_values=null_values)
    parquet = pq.ParquetFile(handle)
    table = parquet.read_row_groups(list(range(shard.start, shard.stop)))
    lines = np.arange(shard.first_line, shard.first_line + table.num_rows, dtype=np.int64)
    return FileRows(shard.path, table.column_names, with_null_tokens(table, null_values), lines)
