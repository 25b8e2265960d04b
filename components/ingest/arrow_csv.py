"""Reading one input file into an Arrow table of raw cells, with line numbers.

CSV is parsed by `pyarrow.csv` (multi-threaded C++) with every column read as
binary, and empty cells and the missing-value tokens (`data.null_values`:
`NA`, `N/A`, `NaN`, `null`...) as null, so nothing else is lost or guessed
here: typing is `columns.py`'s job. Parquet string columns get the same tokens.
Rows with the wrong number of columns are set aside as bad
rows. Each table row keeps its line number in the file so that any later problem
(a value that does not parse) can be reported with the exact row and raw line.
Parquet files are typed already; their "line" is the 1-based row index.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tfxgate.components.ingest.null_values import DEFAULT_NULL_VALUES, null_tokens
from tfxgate.components.ingest.quarantine import BadRow


class InputError(ValueError):
    """Input that cannot be ingested at all (empty, unreadable, inconsistent)."""


@dataclass
class FileRows:
    """The rows of one input file."""

    path: str
    header: list[str]
    table: pa.Table  # CSV: every column binary, empty cells null
    lines: np.ndarray  # line number (CSV) or 1-based row index (Parquet) of each table row
    bad_rows: list[BadRow] = field(default_factory=list)
    raw: bytes = b""  # CSV: the header line, then the rows (of the whole file, or of one shard)
    line_offset: int = 0  # file line number minus line number in `raw` (non-zero for a shard)
    ends: Optional[np.ndarray] = None  # last line of each row's record, where a value spans lines

    def raw_record(self, row: int) -> bytes:
        """The raw bytes of table row `row` (all its lines, for a value with newlines), for the quarantine."""
        if not self.raw:
            return b""
        start = int(self.lines[row])
        end = int(self.ends[row]) if self.ends is not None else start
        first, last = start - self.line_offset, end - self.line_offset
        return b"\n".join(self.raw.split(b"\n", last)[first - 1 : last]).rstrip(b"\r")


def read_csv_bytes(
    path: str,
    data: bytes,
    *,
    first_line: int = 2,
    null_values: Sequence[str] = DEFAULT_NULL_VALUES,
    use_threads: bool = True,
) -> FileRows:
    """Parses a CSV file's content (header line first) into raw binary columns.

    Args:
      path: the file, for messages.
      data: the header line, then rows: a whole file, or the header plus one shard's bytes.
      first_line: the line number in the file of the first row in `data` (2 for a whole file).
      null_values: cell texts that are missing values (the empty cell always is).
      use_threads: parse on Arrow's thread pool. A short-lived command reading a
        sample passes False: with pyarrow 10, a process that exits soon after a
        threaded read sometimes aborts at exit ("terminate called without an
        active exception", exit 134).

    Raises:
      InputError: when the file is empty or has no header.
    """
    if not data.strip():
        raise InputError(f"empty input: {path} has no header and no rows")
    header = parse_header(data.split(b"\n", 1)[0])
    if not any(header):
        raise InputError(f"empty input: {path} has an empty header line")
    wrong_count: list[str] = []

    def _skip(row) -> str:
        wrong_count.append(row.text)
        return "skip"

    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(use_threads=use_threads),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=_skip),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.binary() for name in header},
            null_values=null_tokens(null_values),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    offset = first_line - 2
    rows = FileRows(path, header, table, np.empty(0, np.int64), raw=data, line_offset=offset)
    physical_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if not wrong_count and table.num_rows == physical_lines - 1:
        rows.lines = np.arange(first_line, table.num_rows + first_line, dtype=np.int64)  # the common, fast case
    else:
        starts, ends, rows.bad_rows = _scan_lines(path, data, header, expected_rows=table.num_rows, offset=offset)
        rows.lines, rows.ends = starts + offset, ends + offset
    return rows


def parse_header(line: bytes) -> list[str]:
    """The column names in a CSV header line."""
    return next(csv.reader([line.rstrip(b"\r").decode("utf-8", errors="replace")]))


def _scan_lines(path: str, data: bytes, header: list[str], *, expected_rows: int, offset: int):
    """First and last lines (in `data`) of the good records; the wrong-column-count records.

    Only runs when the file has blank lines, multi-line values or bad rows, so the
    per-record Python here is off the fast path.
    """
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""))
    next(reader)
    lines, ends, bad, previous_end = [], [], [], 1
    text_lines = None
    for record in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if not record:
            continue  # blank line: skipped, like CsvExampleGen does
        if len(record) == len(header):
            lines.append(start)
            ends.append(reader.line_num)
            continue
        if text_lines is None:
            text_lines = data.split(b"\n")
        raw = b"\n".join(text_lines[start - 1 : reader.line_num]).rstrip(b"\r")
        reason = f"expected {len(header)} columns, found {len(record)}"
        bad.append(BadRow.of(path, start + offset, None, reason, raw))
    if len(lines) != expected_rows:
        raise InputError(f"{path}: could not map parsed rows to line numbers ({len(lines)} vs {expected_rows})")
    return np.asarray(lines, dtype=np.int64), np.asarray(ends, dtype=np.int64), bad


def read_parquet_bytes(path: str, data: bytes, *, null_values: Sequence[str] = DEFAULT_NULL_VALUES) -> FileRows:
    """Reads a Parquet file's content; its columns keep their Parquet types (string cells equal to a
    `null_values` token become null)."""
    table = pq.read_table(pa.BufferReader(data))
    if not table.column_names:
        raise InputError(f"empty input: {path} has no columns")
    lines = np.arange(1, table.num_rows + 1, dtype=np.int64)
    return FileRows(path, table.column_names, with_null_tokens(table, null_values), lines)


def with_null_tokens(table: pa.Table, null_values: Sequence[str]) -> pa.Table:
    """`table` with every string/binary cell that equals a token set to null (typed columns untouched)."""
    tokens = null_tokens(null_values)
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_string(kind) or pa.types.is_binary(kind) or pa.types.is_large_string(kind):
            found = pc.is_in(column, value_set=pa.array(tokens, type=kind))
            column = pc.if_else(found, pa.scalar(None, type=kind), column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def check_same_header(files: list[FileRows]) -> None:
    """All files of one span must have the same columns in the same order.

    Raises:
      InputError: naming both files and the first differing column.
    """
    first = files[0]
    for other in files[1:]:
        if other.header != first.header:
            position = next(
                (i for i, (a, b) in enumerate(zip(first.header, other.header, strict=False)) if a != b),
                min(len(first.header), len(other.header)),
            )
            raise InputError(
                f"header mismatch between files of one span: {other.path} differs from {first.path} "
                f"at column {position + 1} ({_at(other.header, position)!r} vs {_at(first.header, position)!r}); "
                f"{first.path}: {first.header}; {other.path}: {other.header}"
            )


def _at(header: list[str], position: int):
    return header[position] if position < len(header) else None
