"""The evaluation report: JSON (every slice x metric) and a static HTML page.

Pure Python. The HTML needs no JavaScript and no network (TFMA's notebook
widgets break in JupyterLab, tfma#112): a table of slices sorted worst first
and an inline SVG bar chart of the first gated metric per slice.
"""

from __future__ import annotations

import html
from typing import Optional

COUNT_METRICS = ("example_count", "weighted_example_count")  # counts of examples: whole numbers


def _cell(entry: dict, *, metric: str = "") -> str:
    value = entry["value"]
    count = metric in COUNT_METRICS
    text = "undefined" if value is None else (f"{value:.0f}" if count else f"{value:.4f}")
    if entry["delta"] is not None:
        text += f" <small>({entry['delta']:+.0f})</small>" if count else f" <small>({entry['delta']:+.4f})</small>"
    css = ' class="fail"' if entry["failed_gates"] else ""
    title = f' title="failed: {", ".join(entry["failed_gates"])}"' if entry["failed_gates"] else ""
    return f"<td{css}{title}>{text}</td>"


def chart_svg(
    rows: list[dict], metric: str, *, minimum: Optional[float] = None, width: int = 820, bar: int = 16
) -> str:
    """A horizontal bar per slice for `metric` (values in [0, 1]); failing slices red, a line at `minimum`."""
    shown = [r for r in rows if r["metrics"].get(metric, {}).get("value") is not None]
    label_w, height = 400, bar * len(shown) + 30
    scale = width - label_w - 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    parts.append(f'<text x="0" y="12" font-size="12">{html.escape(metric)} per slice</text>')
    for i, row in enumerate(shown):
        value = max(0.0, min(1.0, row["metrics"][metric]["value"]))
        y = 20 + i * bar
        color = "#c0392b" if row["status"] == "failed" else ("#aaaaaa" if row["status"] != "ok" else "#2e86c1")
        length = int(scale * value)
        parts.append(f'<text x="0" y="{y + bar - 4}" font-size="11">{html.escape(row["slice"][:64])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{length}" height="{bar - 4}" fill="{color}"/>')
        parts.append(f'<text x="{label_w + length + 4}" y="{y + bar - 4}" font-size="11">{value:.3f}</text>')
    if minimum is not None:
        x = label_w + int(scale * minimum)
        parts.append(f'<line x1="{x}" y1="18" x2="{x}" y2="{height}" stroke="black" stroke-dasharray="4"/>')
    parts.append("</svg>")
    return "".join(parts)


def report_html(data: dict, *, title: str, chart_metric: str, minimum: Optional[float] = None) -> str:
    """The static HTML page for SliceEval's report.json document (`data`)."""
    failures = "".join(f"<li>{html.escape(f['message'])}</li>" for f in data["failures"]) or "<li>none</li>"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:2px 6px}}
td.fail{{background:#f5b7b1}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p><b>{html.escape(data["headline"].split(":")[0])}</b></p>
<p>Baseline: {html.escape(data["baseline_model"] or "none (first model: absolute thresholds and gaps only)")}</p>
<h2>Failed gates</h2><ul>{failures}</ul>
<h2>Chart</h2>{chart_svg(data["slices"], chart_metric, minimum=minimum)}
<h2>Slices, worst first</h2>
<p>Values with the change vs the baseline in brackets; red cells failed a gate.</p>
{slices_table(data)}
</body></html>
"""


def slices_table(data: dict) -> str:
    """Every slice (in the report's order: worst first) x metric; failed cells marked `fail`."""
    metrics = data["metrics"]
    head = "".join(f"<th>{html.escape(m)}</th>" for m in metrics)
    body = []
    for row in data["slices"]:
        cells = "".join(_cell(row["metrics"][m], metric=m) for m in metrics)
        body.append(f"<tr><td>{html.escape(row['slice'])}</td><td>{html.escape(row['status'])}</td>{cells}</tr>")
    return f"<table class='slices'><tr><th>slice</th><th>status</th>{head}</tr>\n{''.join(body)}\n</table>"
