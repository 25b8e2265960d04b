"""One span's columns, summarised once and reused by every comparison and the report page.

Each measure used to sort (or count) the raw values on its own: KS, Wasserstein
(twice), PSI and the histograms each sorted both sides' 1M values again, and a
categorical column was turned into strings row by row three times. A `Span`
instead computes, per feature and on first use, what the measures need:

- numeric: the non-NaN values sorted once (`NumericColumn`), from which KS,
  Wasserstein and PSI read (measures.py's `*_sorted` functions), plus the
  NaN count and the standard deviation of the finite values;
- categorical: the value counts (`CategoricalColumn`), counted in Arrow (or
  on the distinct values of a float column), plus the missing count.

The executor keeps one `Span` per Examples artifact, so a baseline shared by
two comparisons (previous span and pushed model's span) is summarised once.
Pure numpy/pyarrow, no TFX import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class NumericColumn:
    """A numeric column's sorted non-NaN values (±inf kept at the ends) and its size.

    Attributes:
      size: rows, missing included.
      present: the non-NaN values, ascending.
      std: standard deviation of the finite values in row order (0.0 if none).
    """

    size: int
    present: np.ndarray
    std: float

    @property
    def missing(self) -> int:
        return self.size - self.present.size

    @property
    def nonfinite(self) -> int:
        """How many values are +inf or -inf."""
        return self.present.size - self.finite.size

    @property
    def finite(self) -> np.ndarray:
        """The finite values, ascending (a view: ±inf sliced off the ends)."""
        low = np.searchsorted(self.present, -np.inf, side="right")
        high = np.searchsorted(self.present, np.inf, side="left")
        return self.present[low:high]


@dataclass(frozen=True)
class CategoricalColumn:
    """A categorical column's value counts (keys as strings, sorted) and its size."""

    size: int
    missing: int
    counts: dict[str, float]


def numeric_column(values: np.ndarray) -> NumericColumn:
    values = np.asarray(values).astype(float)
    nan = np.isnan(values)
    present = np.sort(values[~nan]) if nan.any() else np.sort(values)
    finite = values[np.isfinite(values)]
    # Row order, not sorted order, so the sum (and the last bits of std) match np.std on the raw column.
    std = float(np.std(finite)) if finite.size else 0.0
    return NumericColumn(values.size, present, std)


def categorical_column(values: np.ndarray) -> CategoricalColumn:
    """Value counts keyed by `str(value)`; None and NaN are missing."""
    if values.dtype.kind == "f":
        return _float_counts(values.astype(float))
    if values.dtype != object:  # ints, bools: nothing missing, keys as numpy prints them
        keys, counts = np.unique(values, return_counts=True)
        return CategoricalColumn(values.size, 0, _sorted_counts([str(k) for k in keys], counts))
    try:
        strings = pa.array(values, type=pa.string(), from_pandas=True)  # None and NaN -> null
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return _object_counts(values)  # not all strings: count str(value) in Python
    found = pc.value_counts(strings.drop_null())
    keys = found.field("values").to_pylist()
    counts = found.field("counts").to_numpy()
    return CategoricalColumn(len(values), strings.null_count, _sorted_counts(keys, counts))


def _float_counts(values: np.ndarray) -> CategoricalColumn:
    present = values[~np.isnan(values)]
    # Distinct bit patterns, so -0.0 and 0.0 stay two keys as their strings are.
    bits, counts = np.unique(present.view(np.int64), return_counts=True)
    keys = [str(v) for v in bits.view(np.float64)]
    return CategoricalColumn(values.size, values.size - present.size, _sorted_counts(keys, counts))


def _object_counts(values: np.ndarray) -> CategoricalColumn:
    missing = np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in values], dtype=bool)
    keys, counts = np.unique(np.asarray([str(v) for v in values[~missing]], dtype=object), return_counts=True)
    return CategoricalColumn(len(values), int(missing.sum()), _sorted_counts(list(keys), counts))


def _sorted_counts(keys: list, counts: np.ndarray) -> dict[str, float]:
    return {str(k): float(c) for k, c in sorted(zip(keys, counts.tolist(), strict=True))}


class Span(Mapping):
    """A table of columns (feature -> 1-D array) with its per-feature summaries cached.

    Reads like the plain mapping it wraps, so it can be passed wherever a table is.
    """

    def __init__(self, table: Mapping[str, np.ndarray]):
        self.table = table
        self._numeric: dict[str, NumericColumn] = {}
        self._categorical: dict[str, CategoricalColumn] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        return self.table[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def numeric(self, name: str) -> NumericColumn:
        if name not in self._numeric:
            self._numeric[name] = numeric_column(self.table[name])
        return self._numeric[name]

    def categorical(self, name: str) -> CategoricalColumn:
        if name not in self._categorical:
            self._categorical[name] = categorical_column(self.table[name])
        return self._categorical[name]


def span(table: Mapping[str, np.ndarray]) -> Span:
    """`table` itself if it already is a Span (keeping its cache), else a new Span over it."""
    return table if isinstance(table, Span) else Span(table)
