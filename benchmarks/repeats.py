"""Repeated measurements: every side of every benchmark runs `REPEATS` times in one invocation.

One timing on a shared machine says little; a benchmark records every repeat,
and its result JSON carries `comparisons`: per measured quantity, each side's
median, min and max and the ratio of the medians (stock / ours, so above 1
means tfxgate was faster). `tables.py` renders the README's tables from them.
"""

from __future__ import annotations

import statistics
from typing import Optional, Sequence

REPEATS = 3
SPEEDUP = "here the ratio is the speedup of a second Beam worker (1 worker / 2 workers)"


def spread(values: Sequence[float]) -> dict:
    """{"median", "min", "max", "values"} of one side's repeats, rounded to 2 decimals."""
    if not values:
        raise ValueError("no measurement to summarize: the side ran zero times")
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
        "values": [round(v, 2) for v in values],
    }


def comparison(
    label: str,
    *,
    ours: Sequence[float],
    stock: Sequence[float],
    unit: str = "s",
    ours_label: str = "ours",
    stock_label: str = "stock",
    note: Optional[str] = None,
) -> dict:
    """One row of a benchmark's table: both sides' spread and the ratio of medians (stock / ours).

    >>> comparison("first run, process", ours=[2, 1, 3], stock=[4, 4, 5])["ratio"]
    2.0
    """
    mine, theirs = spread(ours), spread(stock)
    ratio = round(theirs["median"] / mine["median"], 2) if mine["median"] > 0 else None
    row = {
        "label": label,
        "unit": unit,
        "ours_label": ours_label,
        "stock_label": stock_label,
        "ours": mine,
        "stock": theirs,
        "ratio": ratio,
    }
    if note:
        row["note"] = note
    return row


def of_side(records: Sequence[dict], side: str, key: str) -> list[float]:
    """`record[key]` of every repeat of one side, in run order."""
    return [r[key] for r in records if r["side"] == side]


def worker_comparison(label: str, records: Sequence[dict], key: str, *, note: Optional[str] = None) -> dict:
    """A row of a workers benchmark: 2 workers as "ours", 1 worker as "stock", so the ratio is the speedup."""
    return comparison(
        label,
        ours=of_side(records, "workers-2", key),
        stock=of_side(records, "workers-1", key),
        ours_label="2 workers",
        stock_label="1 worker",
        note=note,
    )


def result(name: str, *, data, repeats: int, records: list[dict], comparisons: list[dict], **extra) -> dict:
    """A benchmark's JSON-ready record: what ran on which data, every run, and the comparisons."""
    from benchmarks.data import count_rows

    return {
        "benchmark": name,
        "data": str(data),
        "rows": count_rows(data),
        "repeats": repeats,
        "runs": records,
        "comparisons": comparisons,
        **extra,
    }
