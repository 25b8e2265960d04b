"""One span's columns, summarised once and reused by every comparison and the report page.

Each measure used to sort (or count) the raw values on its own: KS, Wasserstein
(twice), PSI and the histograms each sorted both sides' 1M values again, and a
categorical column was turned into strings row by row three times. A `Span`
instead computes, per feature and on first use, what the measures need:

- numeric: the distinct finite values, ascending, with how often each occurs
  (`NumericColumn`), from which KS, Wasserstein, PSI and the histograms read
  (measures.py's `*_sorted` functions take the counts), plus the NaN and ±inf
  counts and the standard deviation of the finite values;
- categorical: the value counts (`CategoricalColumn`), counted in Arrow (or
  on the distinct values of a float column), plus the missing count.

Both summaries are mergeable, so a split is summarised record batch by record
batch (`Accumulator`, fed by `tables.summarise`) and never held whole: memory
grows with the distinct values, not the rows. A numeric column with more than
`MAX_DISTINCT` distinct values is compressed (`compress`): its minimum, its
maximum and every value holding at least 2/`MAX_DISTINCT` of the rows stay
exact, the others merge into runs of about equal count, each at its mean. KS,
Wasserstein and PSI are then approximate (`NumericColumn.exact` is False): each
compression moves the empirical CDF by at most about 2/`MAX_DISTINCT` of the
rows (tests/test_drift_streaming.py pins the tolerance). The mean and standard
deviation stay exact (merged moments).

The executor keeps one summary per Examples artifact, so a baseline shared by
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

# Distinct values a numeric column keeps exactly (16 bytes each: 4 MiB a column); above it, `compress`.
MAX_DISTINCT = 1 << 18


@dataclass(frozen=True)
class NumericColumn:
    """A numeric column's distinct finite values (ascending) with their counts, and its size.

    Attributes:
      size: rows, missing included.
      values: the distinct finite values, ascending (or, when not `exact`, the compressed points).
      counts: how many rows hold each value (int64).
      std: standard deviation of the finite values (0.0 if none).
      neg_inf, pos_inf: rows holding -inf / +inf.
      exact: False once the values were compressed (more than `MAX_DISTINCT` distinct).
    """

    size: int
    values: np.ndarray
    counts: np.ndarray
    std: float
    neg_inf: int = 0
    pos_inf: int = 0
    exact: bool = True

    @property
    def finite_size(self) -> int:
        return int(self.counts.sum())

    @property
    def nonfinite(self) -> int:
        """How many values are +inf or -inf."""
        return self.neg_inf + self.pos_inf

    @property
    def missing(self) -> int:
        return self.size - self.finite_size - self.nonfinite


@dataclass(frozen=True)
class CategoricalColumn:
    """A categorical column's value counts (keys as strings, sorted) and its size."""

    size: int
    missing: int
    counts: dict[str, float]


def numeric_column(values: np.ndarray, *, max_distinct: int = MAX_DISTINCT) -> NumericColumn:
    """The summary of one whole column (NaN is missing)."""
    accumulator = NumericAccumulator(max_distinct=max_distinct)
    accumulator.add(values)
    return accumulator.column(size=np.asarray(values).size)


class NumericAccumulator:
    """A numeric column summarised batch by batch: distinct finite values with counts, ±inf, merged moments."""

    def __init__(self, *, max_distinct: int = MAX_DISTINCT):
        self.max_distinct = max_distinct
        self.values, self.counts = np.empty(0), np.empty(0, dtype=np.int64)
        self.neg_inf = self.pos_inf = 0
        self.n, self.mean, self.m2 = 0, 0.0, 0.0
        self.exact = True

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values).astype(float)
        finite = values[np.isfinite(values)]
        self.neg_inf += int(np.count_nonzero(values == -np.inf))
        self.pos_inf += int(np.count_nonzero(values == np.inf))
        if finite.size == 0:
            return
        mean = float(np.mean(finite))  # on one batch: numpy's own mean and variance
        distinct, counts = np.unique(finite, return_counts=True)
        self._absorb(finite.size, mean, float(np.sum((finite - mean) ** 2)), distinct, counts, exact=True)

    def merge(self, other: NumericAccumulator) -> None:
        """Adds what `other` summarised (another worker's share of the same column, on Beam)."""
        self.neg_inf += other.neg_inf
        self.pos_inf += other.pos_inf
        if other.n:
            self._absorb(other.n, other.mean, other.m2, other.values, other.counts, exact=other.exact)

    def _absorb(self, n: int, mean: float, m2: float, distinct, counts, *, exact: bool) -> None:
        # Chan et al.'s merge of (n, mean, M2).
        total = self.n + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total
        if self.values.size:
            distinct, counts = _merge(self.values, self.counts, distinct, counts)
        self.exact = self.exact and exact
        if distinct.size > self.max_distinct:
            distinct, counts = compress(distinct, counts, points=self.max_distinct // 2)
            self.exact = False
        self.values, self.counts = distinct, counts

    def column(self, *, size: int) -> NumericColumn:
        std = math.sqrt(self.m2 / self.n) if self.n else 0.0
        return NumericColumn(size, self.values, self.counts, std, self.neg_inf, self.pos_inf, self.exact)


def _merge(values_a, counts_a, values_b, counts_b) -> tuple[np.ndarray, np.ndarray]:
    values, where = np.unique(np.concatenate([values_a, values_b]), return_inverse=True)
    counts = np.bincount(where, weights=np.concatenate([counts_a, counts_b]), minlength=values.size)
    return values, counts.astype(np.int64)  # exact: counts stay far below 2**53


def compress(values: np.ndarray, counts: np.ndarray, *, points: int) -> tuple[np.ndarray, np.ndarray]:
    """About `points` weighted points for many distinct values (ascending, with counts).

    The minimum, the maximum and every value holding at least 1/`points` of the
    rows are kept as they are; the values between them are merged into runs of
    about 1/`points` of the rows each, placed at the run's mean. The empirical
    CDF moves by at most one run's share at any point.
    """
    total = int(counts.sum())
    heavy = counts * points >= total
    heavy[0] = heavy[-1] = True
    band = (np.cumsum(counts) - counts) * points // total  # which 1/points slice of the rows a value starts in
    starts = np.ones(values.size, dtype=bool)
    starts[1:] = (band[1:] != band[:-1]) | heavy[1:] | heavy[:-1]
    group = np.cumsum(starts) - 1
    merged_counts = np.bincount(group, weights=counts).astype(np.int64)
    sums = np.bincount(group, weights=values * counts)
    merged = sums / merged_counts
    merged[heavy[starts]] = values[starts][heavy[starts]]  # a kept value stays exact (no rounding of its mean)
    if np.any(np.diff(merged) <= 0):  # rounding made two means equal: merge them again
        merged, merged_counts = _merge(merged, merged_counts, np.empty(0), np.empty(0, dtype=np.int64))
    return merged, merged_counts


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


class CategoricalAccumulator:
    """A categorical column's value counts, summed batch by batch (the keys of `categorical_column`)."""

    def __init__(self):
        self.counts: dict[str, float] = {}

    def add(self, values: np.ndarray) -> None:
        self._absorb(categorical_column(values).counts)

    def merge(self, other: CategoricalAccumulator) -> None:
        """Adds what `other` counted (another worker's share of the same column, on Beam)."""
        self._absorb(other.counts)

    def _absorb(self, counts: Mapping[str, float]) -> None:
        for key, count in counts.items():
            self.counts[key] = self.counts.get(key, 0.0) + count

    def column(self, *, size: int) -> CategoricalColumn:
        counts = dict(sorted(self.counts.items()))
        return CategoricalColumn(size, size - int(sum(counts.values())), counts)


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


class Summary(Span):
    """A span known only by its summaries (`Summarizer`): the feature names, no raw values."""

    def __init__(self, numeric: dict[str, NumericColumn], categorical: dict[str, CategoricalColumn]):
        super().__init__({})
        self._numeric, self._categorical = dict(numeric), dict(categorical)
        self._names = sorted(set(numeric) | set(categorical))

    def __getitem__(self, name: str) -> np.ndarray:
        raise KeyError(f"{name!r}: a summarised span keeps no raw values (use .numeric/.categorical)")

    def __contains__(self, name) -> bool:
        return name in self._numeric or name in self._categorical

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def numeric(self, name: str) -> NumericColumn:
        return self._numeric[name]

    def categorical(self, name: str) -> CategoricalColumn:
        return self._categorical[name]


class Summarizer:
    """Feeds tables of columns (one record batch each) into per-feature accumulators; `summary()` at the end.

    Each feature is summarised as what it is: categorical when it is in
    `categorical` (the string columns, plus the schema's categorical INT
    features), numeric otherwise. A feature absent from a batch counts as missing
    in that batch's rows. A feature that is a string in one batch and a number in
    another is refused, naming it.
    """

    def __init__(self, *, max_distinct: int = MAX_DISTINCT, source: str = "the data"):
        self.max_distinct, self.source = max_distinct, source
        self.rows = 0
        self._accumulators: dict[str, object] = {}

    def add(self, table: Mapping[str, np.ndarray], *, categorical: set[str], rows: int) -> None:
        """One batch of `rows` rows: feature -> 1-D array, `categorical` naming the categorical features."""
        for name, values in table.items():
            kind = CategoricalAccumulator if name in categorical else NumericAccumulator
            found = self._accumulators.get(name)
            if found is None:
                found = self._accumulators[name] = (
                    kind() if kind is CategoricalAccumulator else kind(max_distinct=self.max_distinct)
                )
            elif not isinstance(found, kind):
                raise ValueError(
                    f"feature {name!r} of {self.source} is {'a string' if name in categorical else 'numeric'} "
                    f"from row {self.rows} on but was {'numeric' if kind is CategoricalAccumulator else 'a string'} "
                    "before: one type per feature"
                )
            found.add(values)
        self.rows += rows

    def merge(self, other: Summarizer) -> None:
        """Adds another Summarizer's rows (on Beam each worker summarises its bundles; the shares are merged).

        The result is the one `add` gives on all the batches: counts exactly, moments up
        to summation order; a feature only one side saw is missing in the other's rows.
        """
        for name, theirs in other._accumulators.items():
            mine = self._accumulators.get(name)
            if mine is None:
                self._accumulators[name] = theirs
            elif type(mine) is not type(theirs):
                raise ValueError(
                    f"feature {name!r} of {self.source} is a string in some rows and numeric in others: "
                    "one type per feature"
                )
            else:
                mine.merge(theirs)
        self.rows += other.rows

    @property
    def categorical(self) -> set[str]:
        return {n for n, a in self._accumulators.items() if isinstance(a, CategoricalAccumulator)}

    def summary(self) -> Summary:
        numeric, categorical = {}, {}
        for name, accumulator in self._accumulators.items():
            target = categorical if isinstance(accumulator, CategoricalAccumulator) else numeric
            target[name] = accumulator.column(size=self.rows)
        return Summary(numeric, categorical)


def span(table: Mapping[str, np.ndarray]) -> Span:
    """`table` itself if it already is a Span (keeping its cache), else a new Span over it."""
    return table if isinstance(table, Span) else Span(table)
