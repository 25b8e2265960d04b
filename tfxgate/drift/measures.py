"""Drift measures: plain numpy/scipy functions, no TFX import.

Two of them are TFDV's own and follow its C++ implementation
(`tensorflow_data_validation/anomalies/metrics.cc`) so that a threshold means the
same thing here as in a schema's `drift_comparator`:

- `linf_distance`: L-infinity distance between the normalised value counts of a
  categorical feature (TFDV reads them from `string_stats.rank_histogram`).
- `jensen_shannon_divergence`: JSD (log base 2, capped at 1) between two numeric
  histograms (TFDV uses the STANDARD histogram of `num_stats`), after TFDV's
  alignment: point buckets and infinite buckets are set aside, the finite
  buckets are re-bucketed onto the union of both boundary sets assuming values
  are uniform inside a bucket, then point masses, infinite mass and NaNs are
  added back as extra buckets.

The others are computed from samples: population stability index (`psi`),
two-sample Kolmogorov-Smirnov (`ks`), Wasserstein distance (`wasserstein`, also
reported relative to the baseline's standard deviation so one threshold fits
features of any scale) and the jump in the missing rate (`missing_rate_delta`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from scipy import stats as scipy_stats


@dataclass(frozen=True)
class Histogram:
    """A numeric histogram as TFDV stores it: buckets (low, high, count) plus NaNs."""

    buckets: Sequence[tuple[float, float, float]]
    num_nan: float = 0.0


@dataclass(frozen=True)
class LInf:
    """L-infinity distance and the value whose share moved most."""

    value: float
    key: str = field(default="")


def linf_distance(counts_a: Mapping[str, float], counts_b: Mapping[str, float]) -> LInf:
    """TFDV's L-infinity distance between two categorical value-count maps.

    Each map is normalised by its own total; the result is the largest absolute
    difference of one value's share (a value absent on one side counts as 0).

    >>> linf_distance({"a": 1, "b": 1}, {"a": 3, "b": 1}).value
    0.25
    """
    prob_a, prob_b = _normalise(counts_a), _normalise(counts_b)
    best = LInf(0.0, "")
    # Sorted like TFDV's std::map, and `>=` so the last key wins a tie, as in TFDV.
    for key in sorted(set(prob_a) | set(prob_b)):
        diff = abs(prob_a.get(key, 0.0) - prob_b.get(key, 0.0))
        if diff >= best.value:
            best = LInf(diff, key)
    return best


def _normalise(counts: Mapping[str, float]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: (v / total if total else 0.0) for k, v in counts.items()}


def jensen_shannon_divergence(hist_a: Histogram, hist_b: Histogram) -> float:
    """TFDV's Jensen-Shannon divergence between two numeric histograms (base 2, <= 1).

    Raises:
      ValueError: if either histogram is empty (TFDV refuses to normalise it).
    """
    counts_a, counts_b = _align(hist_a, hist_b)
    total_a, total_b = counts_a.sum(), counts_b.sum()
    if total_a == 0 or total_b == 0:
        raise ValueError("Unable to normalize an empty histogram")
    p, q = counts_a / total_a, counts_b / total_b
    m = (p + q) / 2
    result = (_kl(p, m) + _kl(q, m)) / 2
    return min(float(result), 1.0)


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    mask = (p > 0) & (q > 0)
    return float(np.sum(p[mask] * np.log2(p[mask] / q[mask])))


def _strip(hist: Histogram):
    finite, points, infinite = [], {}, 0.0
    for low, high, count in hist.buckets:
        if not (math.isfinite(low) and math.isfinite(high)):
            infinite += count
        elif low == high:
            points[low] = points.get(low, 0.0) + count
        else:
            finite.append((low, high, count))
    return finite, points, infinite


def _boundaries(buckets) -> set[float]:
    return {b for low, high, _ in buckets for b in (low, high)}


def _rebucket(boundaries: list[float], buckets) -> list[float]:
    """Spreads each bucket's count over the new boundaries it covers (uniform within a bucket)."""
    out: list[float] = []
    index, last = 0, len(boundaries) - 1
    for low, high, count in buckets:
        while low > boundaries[index]:
            out.append(0.0)
            index += 1
        if low == high and low == boundaries[index]:
            out.append(count)
            index += 1
            continue
        covered = []
        while high > boundaries[index]:
            covered.append(boundaries[index])
            index += 1
        covered.append(boundaries[index])
        for lo, hi in zip(covered[:-1], covered[1:], strict=True):
            out.append((hi - lo) / (high - low) * count)
    out.extend(0.0 for _ in range(index, last))
    return out


def _align(hist_a: Histogram, hist_b: Histogram) -> tuple[np.ndarray, np.ndarray]:
    finite_a, points_a, inf_a = _strip(hist_a)
    finite_b, points_b, inf_b = _strip(hist_b)
    bounds_a, bounds_b = _boundaries(finite_a), _boundaries(finite_b)
    if bounds_a != bounds_b:
        boundaries = sorted(bounds_a | bounds_b)
        counts_a, counts_b = _rebucket(boundaries, finite_a), _rebucket(boundaries, finite_b)
    else:
        counts_a, counts_b = [c for *_, c in finite_a], [c for *_, c in finite_b]
    for point in sorted(set(points_a) | set(points_b)):
        counts_a.append(points_a.get(point, 0.0))
        counts_b.append(points_b.get(point, 0.0))
    if inf_a:
        counts_a.append(inf_a)
        counts_b.append(0.0)
    if inf_b:
        counts_a.append(0.0)
        counts_b.append(inf_b)
    if hist_a.num_nan > 0 or hist_b.num_nan > 0:
        counts_a += [0.0, hist_a.num_nan]
        counts_b += [hist_b.num_nan, 0.0]
    return np.asarray(counts_a, dtype=float), np.asarray(counts_b, dtype=float)


def standard_histogram(values: np.ndarray, *, counts=None, num_buckets: int = 10) -> Histogram:
    """Equal-width buckets over [min, max], like TFDV's STANDARD histogram.

    NaNs are counted apart; a constant feature gives one point bucket. `counts`:
    how many times each value occurs (a summarised column, `columns.NumericColumn`;
    None: once each).
    """
    values = np.asarray(values, dtype=float)
    nan = np.isnan(values)
    weights = np.ones(values.size) if counts is None else np.asarray(counts, dtype=float)
    num_nan = float(weights[nan].sum())
    finite, weights = values[~nan], weights[~nan]
    if finite.size == 0:
        return Histogram([], num_nan)
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        return Histogram([(low, high, float(weights.sum()))], num_nan)
    bucket_counts, edges = np.histogram(
        finite, bins=num_buckets, range=(low, high), weights=None if counts is None else weights
    )
    buckets = [(float(edges[i]), float(edges[i + 1]), float(bucket_counts[i])) for i in range(num_buckets)]
    return Histogram(buckets, num_nan)


# Pseudo-count added to every bin (Jeffreys' / Krichevsky-Trofimov's 1/2): with 70 rows, an empty
# bin weighs 0.5/75 instead of the 1e-4 floor that let one tied decile add ~0.7 to the PSI alone.
PSI_SMOOTHING = 0.5


def psi(expected: np.ndarray, actual: np.ndarray, *, bins: int = 10, smoothing: float = PSI_SMOOTHING) -> float:
    """Population stability index of `actual` against `expected` (non-finite values dropped).

    Bins are the deciles of `expected` (`quantile_edges`: baseline values, equal
    edges merged, so no baseline bin is empty; open-ended at both ends, so values
    outside its range still count). Shares are smoothed additively (`smoothing`
    pseudo-counts per bin) so the log stays finite without letting one empty bin
    dominate. Rule of thumb: < 0.1 stable, > 0.2 shifted.
    """
    expected, actual = _finite(expected), _finite(actual)
    if expected.size == 0 or actual.size == 0:
        return float("nan")
    edges = quantile_edges(np.sort(expected), bins=bins)
    return _psi_of_counts(bin_counts(expected, edges), bin_counts(actual, edges), smoothing=smoothing)


def quantile_edges(sorted_values: np.ndarray, *, bins: int = 10, counts=None) -> np.ndarray:
    """Inner bin edges at the quantiles of `sorted_values` (ascending, finite, non-empty).

    Edges are values of the sample (inverted CDF, no interpolation between two
    values), equal edges are merged (ties, rounded values) and an edge at the
    maximum is dropped: bin k holds `edges[k-1] < x <= edges[k]`, so every bin
    holds at least one baseline value. A constant sample gives no edge (one bin).
    `counts`: how often each (distinct) value occurs; the edges are those of the
    sample with every value repeated that often (numpy's "inverted_cdf" indices).

    >>> quantile_edges(np.array([1.0, 1.0, 1.0, 1.0, 2.0, 3.0]), bins=3).tolist()
    [1.0]
    >>> quantile_edges(np.array([1.0, 2.0, 3.0]), bins=3, counts=np.array([4, 1, 1])).tolist()
    [1.0]
    """
    quantiles = np.linspace(0, 1, bins + 1)[1:-1]
    if counts is None:
        edges = np.unique(np.quantile(sorted_values, quantiles, method="inverted_cdf"))
    else:
        edges = np.unique(inverted_cdf(sorted_values, counts, quantiles))
    return edges[edges < sorted_values[-1]]


def inverted_cdf(sorted_values: np.ndarray, counts: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """`np.quantile(..., method="inverted_cdf")` of the sample holding each value `counts` times (ascending values).

    >>> inverted_cdf(np.array([1.0, 2.0, 5.0]), np.array([2, 1, 1]), np.array([0.0, 0.5, 0.75, 1.0])).tolist()
    [1.0, 1.0, 2.0, 5.0]
    """
    cumulative = np.cumsum(counts)
    size = int(cumulative[-1])
    # numpy's inverted_cdf: index ceil(n*q) - 1 of the expanded sample, as its virtual index computes it.
    virtual = size * quantiles - 1
    below = np.floor(virtual)
    index = np.clip(below + ((virtual - below) > 0), 0, size - 1)
    return sorted_values[np.searchsorted(cumulative, index, side="right")]


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Values per bin of `quantile_edges` (`edges[k-1] < x <= edges[k]`, open-ended at both ends)."""
    return np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)


def categorical_psi(
    counts_e: Mapping[str, float], counts_a: Mapping[str, float], *, smoothing: float = PSI_SMOOTHING
) -> float:
    """PSI over categories, smoothed like `psi` (a category seen on one side only gets a pseudo-count)."""
    keys = sorted(set(counts_e) | set(counts_a))
    e = np.asarray([counts_e.get(k, 0.0) for k in keys], dtype=float)
    a = np.asarray([counts_a.get(k, 0.0) for k in keys], dtype=float)
    return _psi_of_counts(e, a, smoothing=smoothing)


def _psi_of_counts(counts_e: np.ndarray, counts_a: np.ndarray, *, smoothing: float) -> float:
    share_e = (counts_e + smoothing) / (counts_e.sum() + smoothing * counts_e.size)
    share_a = (counts_a + smoothing) / (counts_a.sum() + smoothing * counts_a.size)
    return float(np.sum((share_a - share_e) * np.log(share_a / share_e)))


@dataclass(frozen=True)
class KS:
    statistic: float
    pvalue: float


def ks(expected: np.ndarray, actual: np.ndarray) -> KS:
    """Two-sample Kolmogorov-Smirnov test (NaNs dropped): statistic and p-value."""
    expected, actual = _finite(expected), _finite(actual)
    if expected.size == 0 or actual.size == 0:
        return KS(float("nan"), float("nan"))
    result = scipy_stats.ks_2samp(expected, actual)
    return KS(float(result.statistic), float(result.pvalue))


def wasserstein(expected: np.ndarray, actual: np.ndarray) -> float:
    """First Wasserstein (earth mover's) distance between two samples, in the feature's units."""
    expected, actual = _finite(expected), _finite(actual)
    if expected.size == 0 or actual.size == 0:
        return float("nan")
    return _cdf_distance(np.sort(expected), np.sort(actual))


def _cdf_distance(u: np.ndarray, v: np.ndarray) -> float:
    """W1 = integral of |F_u - F_v|: scipy's `_cdf_distance(p=1)`, with sorts instead of argsorts (2-3x faster)."""
    values = np.concatenate([u, v])
    values.sort()
    deltas = np.diff(values)
    u_cdf = np.searchsorted(u, values[:-1], side="right") / u.size
    v_cdf = np.searchsorted(v, values[:-1], side="right") / v.size
    return float(np.sum(np.abs(u_cdf - v_cdf) * deltas))


def relative_wasserstein(expected: np.ndarray, actual: np.ndarray) -> float:
    """Wasserstein distance divided by the standard deviation of `expected` (scale-free)."""
    scale = float(np.std(_finite(expected))) if _finite(expected).size else 0.0
    distance = wasserstein(expected, actual)
    if math.isnan(distance):
        return distance
    return distance / scale if scale > 0 else (0.0 if distance == 0 else float("inf"))


def missing_rate_delta(missing_a: int, total_a: int, missing_b: int, total_b: int) -> float:
    """Absolute change in the fraction of rows where the feature is missing."""
    rate_a = missing_a / total_a if total_a else 0.0
    rate_b = missing_b / total_b if total_b else 0.0
    return abs(rate_b - rate_a)


def _finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


# Shared-sort path: the same measures from values each side sorted once (columns.py),
# so one feature costs one merge of the two sorted arrays instead of a sort per measure.


@dataclass(frozen=True)
class ECDFComparison:
    """KS and Wasserstein read off one pass over both empirical CDFs."""

    ks: KS
    wasserstein: float


def compare_sorted(
    expected: np.ndarray, actual: np.ndarray, *, expected_counts=None, actual_counts=None
) -> ECDFComparison:
    """`ks` and `wasserstein` of two finite samples already sorted ascending.

    Equal to `ks(expected, actual)` (scipy's `ks_2samp`, method "auto") and
    `wasserstein(expected, actual)`: the statistic and distance are computed on
    the same merged points with the same arithmetic; samples of at most 10,000
    values go through scipy itself, whose exact p-value also rounds the statistic.
    `*_counts`: how often each value occurs (a summarised column: distinct values
    with their counts, `columns.NumericColumn`); None: once each.
    """
    size_e = expected.size if expected_counts is None else int(np.sum(expected_counts))
    size_a = actual.size if actual_counts is None else int(np.sum(actual_counts))
    if size_e == 0 or size_a == 0:
        return ECDFComparison(KS(float("nan"), float("nan")), float("nan"))
    if expected_counts is None and actual_counts is None:
        # Both inputs are sorted runs, so a stable (tim)sort merges them in linear time.
        values = np.sort(np.concatenate([expected, actual]), kind="stable")
    else:
        values = np.union1d(expected, actual)  # equal values add no gap to W1 and no step to the CDFs
    diffs = _cdf(expected, expected_counts, values) / size_e
    diffs -= _cdf(actual, actual_counts, values) / size_a
    # Both CDFs are 1 at the last point, so W1 sums over the gaps before it, as _cdf_distance does.
    distance = float(np.sum(np.abs(diffs[:-1]) * np.diff(values)))
    if max(size_e, size_a) <= _KS_EXACT_MAX_N:
        result = scipy_stats.ks_2samp(_expand(expected, expected_counts), _expand(actual, actual_counts))
        return ECDFComparison(KS(float(result.statistic), float(result.pvalue)), distance)
    return ECDFComparison(_ks_asymptotic(diffs, size_e, size_a), distance)


def _cdf(sorted_values: np.ndarray, counts, points: np.ndarray) -> np.ndarray:
    """How many values are <= each point (counts: each value's multiplicity, None: 1)."""
    at = np.searchsorted(sorted_values, points, side="right")
    return at if counts is None else np.concatenate([[0], np.cumsum(counts)])[at]


def _expand(sorted_values: np.ndarray, counts) -> np.ndarray:
    return sorted_values if counts is None else np.repeat(sorted_values, np.asarray(counts, dtype=np.int64))


_KS_EXACT_MAX_N = 10000  # scipy's MAX_AUTO_N: above it ks_2samp's "auto" takes the asymptotic p-value


def _ks_asymptotic(diffs: np.ndarray, n1: int, n2: int) -> KS:
    """scipy's two-sided ks_2samp statistic and "asymp" p-value from the CDF differences."""
    below = float(np.clip(-diffs.min(), 0, 1))
    above = float(diffs.max())
    statistic = below if below > above else above
    m, n = sorted([float(n1), float(n2)], reverse=True)
    pvalue = scipy_stats.kstwo.sf(statistic, np.round(m * n / (m + n)))
    return KS(statistic, float(np.clip(pvalue, 0, 1)))


def psi_sorted(
    expected: np.ndarray,
    actual: np.ndarray,
    *,
    bins: int = 10,
    smoothing: float = PSI_SMOOTHING,
    expected_counts=None,
    actual_counts=None,
) -> float:
    """`psi` of two finite samples already sorted ascending (bin counts by binary search on the edges).

    `*_counts`: each value's multiplicity, as in `compare_sorted`.
    """
    if expected.size == 0 or actual.size == 0:
        return float("nan")
    edges = quantile_edges(expected, bins=bins, counts=expected_counts)
    return _psi_of_counts(
        _sorted_counts(expected, edges, expected_counts),
        _sorted_counts(actual, edges, actual_counts),
        smoothing=smoothing,
    )


def _sorted_counts(values: np.ndarray, edges: np.ndarray, counts=None) -> np.ndarray:
    # `bin_counts` by binary search of the edges in the sorted values: bin k holds edges[k-1] < x <= edges[k].
    at = np.concatenate([[0], np.searchsorted(values, edges, side="right"), [values.size]])
    return np.diff(at if counts is None else np.concatenate([[0], np.cumsum(counts)])[at])


def relative_distance(distance: float, scale: float) -> float:
    """A Wasserstein distance over the baseline's standard deviation, as `relative_wasserstein` divides it."""
    if math.isnan(distance):
        return distance
    return distance / scale if scale > 0 else (0.0 if distance == 0 else float("inf"))
