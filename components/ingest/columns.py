"""Typing raw cells: schema types when a schema is given, inferred ones otherwise.

Every column becomes INT (int64), FLOAT (float32, as tf.Example stores it) or
BYTES, with empty cells as nulls. All conversion is vectorised Arrow compute;
only when a column holds a value that does not convert (or invalid UTF-8) is
the failing subset located — still vectorised, through a regex — so that those
rows can be quarantined with their reason. Inference follows CsvExampleGen:
INT if every value is an integer, else FLOAT if every value is a number, else BYTES;
a column that is empty everywhere has no type (its feature gets no values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

INT, FLOAT, BYTES = "INT", "FLOAT", "BYTES"

_INT_PATTERN = r"^\s*[+-]?[0-9]+\s*$"
_FLOAT_PATTERN = (
    r"^\s*[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[nN][aA][nN]|[iI][nN][fF]([iI][nN][iI][tT][yY])?)\s*$"
)


@dataclass(frozen=True)
class ColumnRule:
    """What the schema says about one column."""

    kind: str  # INT, FLOAT or BYTES
    disallow_nan: bool = False
    disallow_inf: bool = False


@dataclass
class Problem:
    """Rows (indices into the table) of one column that failed, and why."""

    column: str
    rows: np.ndarray
    reason: str


def rules_from_schema(schema) -> dict[str, ColumnRule]:
    """Column rules from a `tensorflow_metadata` Schema proto."""
    kinds = {1: BYTES, 2: INT, 3: FLOAT}  # schema_pb2.FeatureType: BYTES=1, INT=2, FLOAT=3
    rules = {}
    for feature in schema.feature:
        if feature.type not in kinds:
            continue
        domain = feature.float_domain if feature.HasField("float_domain") else None
        rules[feature.name] = ColumnRule(
            kinds[feature.type],
            disallow_nan=bool(domain and domain.disallow_nan),
            disallow_inf=bool(domain and domain.disallow_inf),
        )
    return rules


def to_text(name: str, column: pa.Array) -> tuple[pa.Array, list[Problem]]:
    """Binary cells -> UTF-8 strings; cells that are not valid UTF-8 become problems (and null)."""
    try:
        return column.cast(pa.string()), []
    except pa.ArrowInvalid:
        pass
    invalid = np.array([v is not None and not _is_utf8(v) for v in column.to_pylist()])  # rare path
    cleaned = pc.if_else(pa.array(invalid), pa.nulls(len(column), pa.binary()), column)
    return cleaned.cast(pa.string()), [Problem(name, np.flatnonzero(invalid), "invalid UTF-8")]


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def infer_kind(text: pa.Array, *, at_least: Optional[str] = None) -> tuple[Optional[str], Optional[pa.Array]]:
    """CsvExampleGen's inference on one column of strings: (kind, parsed values or None).

    The kind is None when every cell is empty; the parsed values (int64/float64)
    are handed to `convert` so a numeric column is cast only once. `at_least`: a
    kind other parts of the input already gave the column; narrower kinds are
    not tried (the merged kind is the same), which saves the failing casts.
    """
    if text.null_count == len(text):
        return None, None
    if at_least == BYTES:
        return BYTES, None
    trimmed = None
    attempts = ((INT, pa.int64()), (FLOAT, pa.float64()))
    for kind, target in attempts[1:] if at_least == FLOAT else attempts:
        for candidate in (text, trimmed):
            if candidate is None:
                trimmed = candidate = pc.utf8_trim_whitespace(text)
            try:
                return kind, pc.cast(candidate, target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
    return BYTES, None


def convert(
    name: str, text: pa.Array, rule: ColumnRule, *, parsed: Optional[pa.Array] = None
) -> tuple[pa.Array, list[Problem]]:
    """One column of strings -> its typed values (nulls for empty or bad cells) and problems.

    `parsed` is the column already cast by `infer_kind`, if it was.
    """
    if rule.kind == BYTES:
        return text.cast(pa.binary()), []
    target, pattern = (pa.int64(), _INT_PATTERN) if rule.kind == INT else (pa.float64(), _FLOAT_PATTERN)
    problems = []
    values = parsed
    if values is None:
        try:
            values = pc.cast(text, target)  # the common case: clean numbers, no copy for trimming
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = None
    if values is None:
        trimmed = pc.utf8_trim_whitespace(text)
        values = _cast_or_quarantine_all(name, trimmed, target, pattern, rule, problems)
    if rule.kind == FLOAT:
        problems += _forbidden_floats(name, values, rule)
        values = pc.cast(values, pa.float32(), safe=False)
    return values, problems


def _cast_or_quarantine_all(name, trimmed, target, pattern, rule, problems):
    """Slow path: locates cells that do not parse (vectorised regex), nulls them, casts the rest."""
    try:
        return pc.cast(trimmed, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        bad = pc.fill_null(pc.invert(pc.match_substring_regex(trimmed, pattern)), False)
        rows = np.flatnonzero(bad.to_numpy(zero_copy_only=False))
        problems.append(Problem(name, rows, f"not {'an integer' if rule.kind == INT else 'a number'}"))
        trimmed = pc.if_else(bad, pa.nulls(len(trimmed), pa.string()), trimmed)
        return _cast_or_quarantine(name, trimmed, target, problems)


def _cast_or_quarantine(name, trimmed, target, problems):
    """Casts what the regex let through; values it still refuses (e.g. overflow) are found one by one."""
    try:
        return pc.cast(trimmed, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    refused = []
    for i, value in enumerate(trimmed.to_pylist()):  # rare path: only after a regex-valid cast failed
        try:
            pa.array([value], pa.string()).cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            refused.append(i)
    rows = np.asarray(refused, dtype=np.int64)
    problems.append(Problem(name, rows, f"out of range for {target}"))
    mask = np.zeros(len(trimmed), bool)
    mask[rows] = True
    return pc.cast(pc.if_else(pa.array(mask), pa.nulls(len(trimmed), pa.string()), trimmed), target)


def _forbidden_floats(name: str, values: pa.Array, rule: ColumnRule) -> list[Problem]:
    problems = []
    if rule.disallow_nan:
        rows = np.flatnonzero(pc.fill_null(pc.is_nan(values), False).to_numpy(zero_copy_only=False))
        if len(rows):
            problems.append(Problem(name, rows, "NaN, which the schema forbids (float_domain.disallow_nan)"))
    if rule.disallow_inf:
        rows = np.flatnonzero(pc.fill_null(pc.is_inf(values), False).to_numpy(zero_copy_only=False))
        if len(rows):
            problems.append(Problem(name, rows, "infinite, which the schema forbids (float_domain.disallow_inf)"))
    return problems
