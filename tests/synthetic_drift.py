"""Seeded synthetic drift: a base span and a shifted span with drift in chosen features.

Used by the tests (does the check flag exactly the drifted features?) and by
the e2e drift run (a taxi sample with drift injected into some of its columns).
Every injection is one named kind:

- `mean_shift`: numeric values + 1 standard deviation
- `variance_change`: numeric values spread 2.5x around their mean
- `new_category`: 30% of the rows take a value never seen in the base span
- `category_mix`: the most frequent value loses half its rows to the others
- `missing_rate`: 30% of the rows lose the value

Columns not named are resampled from the base (a bootstrap draw: the same
distribution), so an untouched feature differs only by sampling noise.
"""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

DRIFT_KINDS = ("mean_shift", "variance_change", "new_category", "category_mix", "missing_rate")
NEW_CATEGORY = "__new_category__"


def base_table(*, rows: int = 5000, seed: int = 0) -> dict[str, np.ndarray]:
    """A synthetic table: three numeric features of different scales, two categorical ones."""
    rng = np.random.default_rng(seed)
    return {
        "amount": rng.lognormal(2.0, 0.5, rows),
        "distance": rng.gamma(2.0, 3.0, rows),
        "score": rng.normal(100.0, 15.0, rows),
        "city": rng.choice(np.array(["north", "south", "east", "west"], dtype=object), rows, p=[0.4, 0.3, 0.2, 0.1]),
        "channel": rng.choice(np.array(["web", "app", "phone"], dtype=object), rows, p=[0.5, 0.3, 0.2]),
    }


def shifted_table(
    base: Mapping[str, np.ndarray],
    *,
    drift: Mapping[str, str],
    seed: int = 1,
    rows: Optional[int] = None,
) -> dict[str, np.ndarray]:
    """A new span drawn from `base` (bootstrap) with `drift` = {feature: kind} injected.

    Raises:
      ValueError: naming the feature or kind that is unknown or does not fit its column.
    """
    rng = np.random.default_rng(seed)
    size = rows or len(next(iter(base.values())))
    unknown = sorted(set(drift) - set(base))
    if unknown:
        raise ValueError(f"cannot inject drift into {unknown}: not columns of the base table")
    out = {}
    for name, column in base.items():
        values = _resample(column, rng, size)
        if name in drift:
            values = _inject(name, values, drift[name], rng)
        out[name] = values
    return out


def _resample(column: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A fresh draw (bootstrap) from the column's own distribution."""
    return column[rng.integers(0, len(column), size)].copy()


def _inject(name: str, values: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    categorical = values.dtype == object
    if kind not in DRIFT_KINDS:
        raise ValueError(f"unknown drift kind {kind!r} for {name!r} (known: {', '.join(DRIFT_KINDS)})")
    if kind in ("mean_shift", "variance_change") and categorical:
        raise ValueError(f"{kind} needs a numeric feature; {name!r} is categorical")
    if kind in ("new_category", "category_mix") and not categorical:
        raise ValueError(f"{kind} needs a categorical feature; {name!r} is numeric")
    values = values.copy()
    if kind == "mean_shift":
        return values + np.nanstd(values)
    if kind == "variance_change":
        mean = np.nanmean(values)
        return mean + (values - mean) * 2.5
    if kind == "new_category":
        values[rng.random(len(values)) < 0.3] = NEW_CATEGORY
        return values
    if kind == "category_mix":
        labels, counts = np.unique(values[values != None], return_counts=True)  # noqa: E711 (elementwise)
        top = labels[np.argmax(counts)]
        others = labels[labels != top]
        hit = (values == top) & (rng.random(len(values)) < 0.5)
        values[hit] = rng.choice(others, hit.sum())
        return values
    # missing_rate
    gone = rng.random(len(values)) < 0.3
    if categorical:
        values[gone] = None
    else:
        values = values.astype(float)
        values[gone] = np.nan
    return values


def read_csv(path) -> dict[str, np.ndarray]:
    """A CSV as columns that write back unchanged: floats as float arrays, the rest as objects.

    Integers stay Python ints (None where missing), so a resampled integer column
    is written back as integers and keeps its type for ExampleGen.
    """
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    table = pa_csv.read_csv(path)
    columns = {}
    for name, column in zip(table.schema.names, table.columns, strict=True):
        if pa.types.is_floating(column.type):
            columns[name] = column.to_numpy().astype(float)
        else:
            columns[name] = np.asarray(column.to_pylist(), dtype=object)
    return columns


def write_csv(table: Mapping[str, np.ndarray], path) -> None:
    """Writes a table as CSV (missing values as empty fields), header first."""
    import csv

    names = list(table)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in zip(*(table[n] for n in names), strict=True):
            writer.writerow(["" if _missing(v) else v for v in row])


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
