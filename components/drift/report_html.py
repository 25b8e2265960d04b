"""The drift report as one static HTML page: a table of every feature x measure
and, per feature, the baseline and current histograms side by side (inline SVG,
so the file opens anywhere with no scripts or network).

Two steps, so the page can be drawn again from `drift_report.json` alone (the
run report, `tfxgate report`, does): `histograms` turns the compared tables into
bar heights that the executor stores in the JSON, and `report_section` draws one
report (as a `DriftReport.to_dict()` plus its histograms) from that data.
"""

from __future__ import annotations

import html
from typing import Mapping

import numpy as np

from tfxgate.components.drift import columns
from tfxgate.components.drift.check import MEASURES, DriftReport

_BAR_W, _BAR_H = 260, 90
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


def render_payload(reports: list[dict], *, title: str) -> str:
    """The whole page for reports as stored in `drift_report.json`."""
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"]
    parts.append(f"<style>body{{font-family:sans-serif;margin:1.5em}} table{{border-collapse:collapse}}{STYLE}</style>")
    parts.append(f"<h1>{html.escape(title)}</h1>")
    parts += [report_section(report) for report in reports]
    return "\n".join(parts)


def report_section(report: dict) -> str:
    """One report: heading, drifted features, the measures table and the histogram pairs.

    Histograms are drawn when the report carries them (reports written before
    they were stored in the JSON show the table only).
    """
    drifted = ", ".join(report["drifted_features"]) or "none"
    parts = [
        f"<h3>{html.escape(report['kind'])}: {html.escape(report['baseline'])} &rarr; "
        f"{html.escape(report['current'])}</h3>",
        f"<p>drifted features: <b>{html.escape(drifted)}</b></p>",
        table(report),
    ]
    shown = report.get("histograms") or {}
    for feature in report["features"]:
        if feature["feature"] not in shown:
            continue
        css = "bad" if feature["fired"] else ""
        parts.append(f"<h4 class='{css}'>{html.escape(feature['feature'])}</h4><div class='pair'>")
        parts.append(histogram_pair_svg(shown[feature["feature"]]))
        parts.append("</div>")
    return "\n".join(parts)


def table(report: dict) -> str:
    """Every feature x measure: value / threshold, the measures that fired in red."""
    head = "".join(f"<th>{m}</th>" for m in MEASURES)
    rows = []
    for f in report["features"]:
        cells = []
        for m in MEASURES:
            if m not in f["values"]:
                cells.append("<td></td>")
                continue
            cls = " class='bad'" if m in f["fired"] else ""
            cells.append(f"<td{cls}>{f['values'][m]:.4g} <small>/ {f['thresholds'][m]:g}</small></td>")
        rows.append(f"<tr><td>{html.escape(f['feature'])}</td><td>{html.escape(f['kind'])}</td>{''.join(cells)}</tr>")
    return f"<table class='drift'><tr><th>feature</th><th>kind</th>{head}</tr>{''.join(rows)}</table>"


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
        finite = [base.numeric(feature).finite, cur.numeric(feature).finite]  # sorted: ends are min and max
        low = min((v[0] for v in finite if v.size), default=0.0)
        high = max((v[-1] for v in finite if v.size), default=0.0)
        high = high if high > low else low + 1
        edges = np.linspace(low, high, _NUMERIC_BINS + 1)
        labels = [f"{edges[i]:.3g}" for i in range(_NUMERIC_BINS)]
        # np.histogram's own count for explicit edges (it sorts, then searches the edges), minus the sort.
        counts = [
            np.diff(np.append(np.searchsorted(v, edges[:-1]), np.searchsorted(v, edges[-1], "right"))) for v in finite
        ]
        shares = [_shares(c) for c in counts]
    return {"labels": labels, "baseline": shares[0], "current": shares[1]}


def histogram_pair_svg(bars: dict) -> str:
    """The baseline and current histograms side by side, on one vertical scale."""
    top = max(max(bars[side], default=0) for side in ("baseline", "current")) or 1.0
    return "".join(_bars(bars[side], bars["labels"], top, side) for side in ("baseline", "current"))


def _shares(counts) -> list[float]:
    total = float(sum(counts))
    return [float(c) / total if total else 0.0 for c in counts]


def _bars(shares, labels, top: float, name: str) -> str:
    width = _BAR_W / max(len(shares), 1)
    bars = []
    for i, (share, label) in enumerate(zip(shares, labels, strict=True)):
        h = share / top * (_BAR_H - 12)
        tip = html.escape(f"{label}: {share:.1%}")
        bars.append(
            f"<rect x='{i * width:.1f}' y='{_BAR_H - h:.1f}' width='{width * 0.9:.1f}' height='{h:.1f}'>"
            f"<title>{tip}</title></rect>"
        )
    return (
        f"<svg class='{name}' width='{_BAR_W}' height='{_BAR_H}' role='img' aria-label='{name}'>"
        f"<text x='2' y='10'>{name}</text>{''.join(bars)}</svg>"
    )


# Shared with the run report, which embeds drift sections in its own page.
STYLE = """
table.drift td,table.drift th{border:1px solid #ccc;padding:2px 6px} .bad{color:#b00;font-weight:bold}
.pair svg{margin-right:1em;border:1px solid #eee}
svg.baseline rect{fill:#4a78b0} svg.current rect{fill:#d08030} svg text{font-size:10px}
"""
