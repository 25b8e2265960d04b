"""The drift report's data: each `DriftReport` as a JSON-ready dict with its histogram bars.

The executor stores this in `drift_report.json`; `tfxgate.reporting.drift_html`
draws it (here, for the artifact's own page, and again in the run report).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from tfxgate.drift import columns
from tfxgate.drift.check import DriftReport
from tfxgate.reporting.drift_html import render_payload

_MAX_CATEGORIES, _NUMERIC_BINS = 12, 20


def render(reports: list[DriftReport], tables: Mapping[str, tuple[Mapping, Mapping]], *, title: str) -> str:
    """HTML for the reports; `tables[kind]` is the (baseline, current) pair that report compared."""
    return render_payload(payload(reports, tables), title=title)


def payload(reports: list[DriftReport], tables: Mapping[str, tuple[Mapping, Mapping]]) -> list[dict]:
    """The reports as JSON-ready dicts, each with its per-feature `histograms`."""
    documents = []
    for report in reports:
        # Spans: the value counts and sorted values the check already computed are reused.
        base, cur = (columns.span(t) for t in tables[report.kind])
        document = report.to_dict()
        document["histograms"] = {
            f.feature: column_histograms(base, cur, f.feature, categorical=f.kind == "categorical")
            for f in report.features
        }
        documents.append(document)
    return documents


def histograms(base, cur, *, categorical: bool) -> dict:
    """Shares per bar for the baseline and current columns, on common bars.

    Categorical: the most frequent categories of both sides together; numeric:
    20 equal-width bins over the finite values of both sides.
    """
    return column_histograms(columns.Span({"f": base}), columns.Span({"f": cur}), "f", categorical=categorical)


def column_histograms(base: columns.Span, cur: columns.Span, feature: str, *, categorical: bool) -> dict:
    """`histograms` of one feature of two spans, from their cached summaries."""
    if categorical:
        counts_b, counts_c = base.categorical(feature).counts, cur.categorical(feature).counts
        top = sorted(set(counts_b) | set(counts_c), key=lambda k: -(counts_b.get(k, 0) + counts_c.get(k, 0)))
        labels = top[:_MAX_CATEGORIES]
        shares = [_shares([counts_b.get(k, 0) for k in labels]), _shares([counts_c.get(k, 0) for k in labels])]
    else:
        summaries = [base.numeric(feature), cur.numeric(feature)]  # distinct values, sorted: ends are min and max
        low = min((c.values[0] for c in summaries if c.values.size), default=0.0)
        high = max((c.values[-1] for c in summaries if c.values.size), default=0.0)
        high = high if high > low else low + 1
        edges = np.linspace(low, high, _NUMERIC_BINS + 1)
        labels = [f"{edges[i]:.3g}" for i in range(_NUMERIC_BINS)]
        # np.histogram's own count for explicit edges (it sorts, then searches the edges), on the counted values.
        counts = []
        for c in summaries:
            cumulative = np.concatenate([[0], np.cumsum(c.counts)])
            at = np.append(np.searchsorted(c.values, edges[:-1]), np.searchsorted(c.values, edges[-1], "right"))
            counts.append(np.diff(cumulative[at]))
        shares = [_shares(c) for c in counts]
    return {"labels": labels, "baseline": shares[0], "current": shares[1]}


def _shares(counts) -> list[float]:
    total = float(sum(counts))
    return [float(c) / total if total else 0.0 for c in counts]
