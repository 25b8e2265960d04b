"""Bad input rows: what they are, the `max_bad_rows` policy, and the quarantine file.

A bad row never stops good rows from proceeding and is never lost: it is written
to the component's `quarantine` output with the file, the row (its line number in
that file, the header being line 1), the column, the reason and the raw line
(with the exact bytes in base64 beside a lossy preview when they are not UTF-8). The
policy decides whether the run may go on; when it may not, the error names the
first offending rows. Pure Python, no TFX.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import asdict, dataclass
from typing import Iterable, Optional, Union

QUARANTINE_FILE = "bad_rows.jsonl"
SHOWN_IN_ERRORS = 5


@dataclass(frozen=True)
class BadRow:
    """One quarantined row (the first problem found in it)."""

    file: str
    row: int  # line number in `file`; the header is line 1
    column: Optional[str]  # None when the row as a whole is wrong (column count)
    reason: str
    raw_line: str  # the raw record as text; a lossy preview (U+FFFD) when it is not UTF-8
    raw_base64: Optional[str] = None  # the record's exact bytes, when `raw_line` could not hold them

    @classmethod
    def of(cls, file: str, row: int, column: Optional[str], reason: str, raw: bytes) -> BadRow:
        """A bad row from the record's raw bytes: kept exactly (base64) when they are not UTF-8 text.

        >>> BadRow.of("a.csv", 3, "x", "invalid UTF-8", b"1,caf\xe9").raw_base64
        'MSxjYWbp'
        """
        try:
            return cls(file, row, column, reason, raw.decode("utf-8"))
        except UnicodeDecodeError:
            preview = raw.decode("utf-8", errors="replace")
            return cls(file, row, column, reason, preview, base64.b64encode(raw).decode("ascii"))

    @property
    def raw(self) -> bytes:
        """The record's exact bytes."""
        return base64.b64decode(self.raw_base64) if self.raw_base64 is not None else self.raw_line.encode("utf-8")

    def describe(self) -> str:
        where = f"{self.file}:{self.row}"
        column = f" column {self.column!r}:" if self.column else ""
        return f"{where}:{column} {self.reason}"


class TooManyBadRows(ValueError):
    """More bad rows than `max_bad_rows` allows."""


def allowed_bad_rows(max_bad_rows: Union[int, float], *, total_rows: int) -> int:
    """The number of bad rows the policy tolerates for `total_rows` input rows.

    An int is a count; a float in [0, 1) is a fraction of all rows read (rounded down).

    >>> allowed_bad_rows(0.01, total_rows=1234)
    12
    """
    if isinstance(max_bad_rows, float):
        return math.floor(max_bad_rows * total_rows)
    return max_bad_rows


def enforce_policy(bad_rows: list[BadRow], *, max_bad_rows: Union[int, float], total_rows: int) -> None:
    """Raises TooManyBadRows, naming the first offending rows, when the policy is exceeded."""
    allowed = allowed_bad_rows(max_bad_rows, total_rows=total_rows)
    if len(bad_rows) <= allowed:
        return
    first = sorted(bad_rows, key=lambda b: (b.file, b.row))[:SHOWN_IN_ERRORS]
    listed = "\n".join(f"  - {b.describe()}" for b in first)
    more = f"\n  ... and {len(bad_rows) - len(first)} more" if len(bad_rows) > len(first) else ""
    raise TooManyBadRows(
        f"{len(bad_rows)} bad rows of {total_rows} exceed data.max_bad_rows={max_bad_rows} "
        f"(at most {allowed} allowed); first offending rows:\n{listed}{more}"
    )


def to_jsonl(bad_rows: Iterable[BadRow]) -> str:
    """The quarantine file's content: one JSON object per bad row, in file and row order."""
    ordered = sorted(bad_rows, key=lambda b: (b.file, b.row))
    return "".join(json.dumps(_record(b), ensure_ascii=False) + "\n" for b in ordered)


def _record(bad: BadRow) -> dict:
    """The row as JSON; `raw_base64` only where the raw line is a lossy preview."""
    record = asdict(bad)
    if record["raw_base64"] is None:
        del record["raw_base64"]
    return record


def from_jsonl(text: str) -> list[BadRow]:
    """Reads a quarantine file back."""
    return [BadRow(**json.loads(line)) for line in text.splitlines() if line.strip()]
