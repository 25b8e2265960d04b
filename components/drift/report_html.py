"""The drift report as one static HTML page: a table of every feature x measure
and, per feature, the baseline and current histograms side by side (inline SVG,
so the file opens anywhere with no scripts or network).
"""

from __future__ import annotations

import html
from typing import Mapping

import numpy as np

from tfxgate.components.drift.check import MEASURES, DriftReport, value_counts

_BAR_W, _BAR_H = 260, 90


def render(reports: list[DriftReport], tables: Mapping[str, tuple[Mapping, Mapping]], *, title: str) -> str:
    """HTML for the reports; `tables[kind]` is the (baseline, current) pair that report compared."""
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>", _STYLE]
    parts.append(f"<h1>{html.escape(title)}</h1>")
    for report in reports:
        base, cur = tables[report.kind]
        drifted = ", ".join(f.feature for f in report.drifted) or "none"
        parts.append(f"<h2>{report.kind}: {html.escape(report.baseline)} &rarr; {html.escape(report.current)}</h2>")
        parts.append(f"<p>drifted features: <b>{html.escape(drifted)}</b></p>")
        parts.append(_table(report))
        for f in report.features:
            parts.append(f"<h3 class='{'bad' if f.drifted else ''}'>{html.escape(f.feature)}</h3><div class='pair'>")
            parts.append(_svg(base[f.feature], cur[f.feature], categorical=f.kind == "categorical"))
            parts.append("</div>")
    return "\n".join(parts)


def _table(report: DriftReport) -> str:
    head = "".join(f"<th>{m}</th>" for m in MEASURES)
    rows = []
    for f in report.features:
        cells = []
        for m in MEASURES:
            if m not in f.values:
                cells.append("<td></td>")
                continue
            cls = " class='bad'" if m in f.fired else ""
            cells.append(f"<td{cls}>{f.values[m]:.4g} <small>/ {f.thresholds[m]:g}</small></td>")
        rows.append(f"<tr><td>{html.escape(f.feature)}</td><td>{f.kind}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>feature</th><th>kind</th>{head}</tr>{''.join(rows)}</table>"


def _svg(base, cur, *, categorical: bool) -> str:
    if categorical:
        counts_b, counts_c = value_counts(base), value_counts(cur)
        labels = sorted(set(counts_b) | set(counts_c), key=lambda k: -(counts_b.get(k, 0) + counts_c.get(k, 0)))[:12]
        shares = [_shares([counts_b.get(k, 0) for k in labels]), _shares([counts_c.get(k, 0) for k in labels])]
    else:
        finite = [np.asarray(v, dtype=float) for v in (base, cur)]
        finite = [v[np.isfinite(v)] for v in finite]
        both = np.concatenate(finite) if any(v.size for v in finite) else np.zeros(1)
        edges = np.linspace(both.min(), both.max() if both.max() > both.min() else both.min() + 1, 21)
        labels = [f"{edges[i]:.3g}" for i in range(20)]
        shares = [_shares(np.histogram(v, bins=edges)[0]) for v in finite]
    top = max(max(s, default=0) for s in shares) or 1.0
    return "".join(_bars(s, labels, top, name) for s, name in zip(shares, ("baseline", "current"), strict=True))


def _shares(counts) -> list[float]:
    total = float(sum(counts))
    return [c / total if total else 0.0 for c in counts]


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


_STYLE = """<style>
body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:2px 6px}
.bad{color:#b00;font-weight:bold} .pair svg{margin-right:1em;border:1px solid #eee}
svg.baseline rect{fill:#4a78b0} svg.current rect{fill:#d08030} svg text{font-size:10px}
</style>"""
