"""Is a difference between two spans more than sampling noise? p-values and their correction.

An effect size (PSI, KS statistic, L-infinity...) over its threshold is not
enough on small spans: two samples of 70 rows from one distribution routinely
show `psi > 0.2` and `ks > 0.1`. The check (check.py) therefore flags a measure
only when its test is also significant after a Benjamini-Hochberg correction
over every test of one comparison. The tests, per feature:

- `distribution`: numeric features, the two-sample Kolmogorov-Smirnov test
  (measures.compare_sorted computes it with the KS statistic); categorical
  features, Pearson's chi-square test of homogeneity on the value counts;
- `missing`: Fisher's exact test on (missing, present) rows of each side;
- `nonfinite` (numeric): Fisher's exact test on (±inf, finite) values.

Pure numpy/scipy, no TFX import.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
from scipy import stats as scipy_stats

DISTRIBUTION, MISSING, NONFINITE = "distribution", "missing", "nonfinite"


def chi_square_pvalue(counts_a: Mapping[str, float], counts_b: Mapping[str, float]) -> float:
    """p-value of Pearson's chi-square test that two value-count maps come from one distribution.

    Categories seen on either side form the columns of a 2 x k table; NaN when
    either side has no values, 1.0 when there is a single category.

    >>> chi_square_pvalue({"a": 50, "b": 50}, {"a": 50, "b": 50})
    1.0
    """
    keys = sorted(set(counts_a) | set(counts_b))
    table = np.array([[counts_a.get(k, 0.0) for k in keys], [counts_b.get(k, 0.0) for k in keys]], dtype=float)
    if table[0].sum() == 0 or table[1].sum() == 0:
        return float("nan")
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    return float(scipy_stats.chi2_contingency(table, correction=False).pvalue)


def rate_pvalue(hits_a: int, total_a: int, hits_b: int, total_b: int) -> float:
    """p-value of Fisher's exact test that two rates (`hits / total`) are equal; NaN if a side is empty.

    Exact, so it holds on 70 rows as on a million (scipy takes milliseconds either way).

    >>> rate_pvalue(0, 70, 0, 68)
    1.0
    """
    if total_a == 0 or total_b == 0:
        return float("nan")
    table = [[hits_a, total_a - hits_a], [hits_b, total_b - hits_b]]
    return float(scipy_stats.fisher_exact(table).pvalue)


def benjamini_hochberg(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input's order; NaN stays NaN and is not counted.

    A test is significant at level `alpha` under the correction when its q-value is <= alpha.

    >>> [round(q, 3) for q in benjamini_hochberg([0.01, 0.04, 0.03, float("nan")])]
    [0.03, 0.04, 0.04, nan]
    """
    tested = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
    q = [float("nan")] * len(pvalues)
    if tested:
        adjusted = scipy_stats.false_discovery_control([pvalues[i] for i in tested], method="bh")
        for index, value in zip(tested, adjusted, strict=True):
            q[index] = float(value)
    return q
