"""Drawing a drift report (`drift_report.json`) as HTML: a table of every feature x measure and,
per feature, the baseline and current histograms side by side (inline SVG, so the
page opens anywhere with no scripts or network).

DataDrift (components/drift/report_payload.py) computes the histogram bars and
stores them in the JSON; this module only draws that JSON, so the run report
(`tfxgate report`) draws the same sections again from the artifact alone.
"""

from __future__ import annotations

import html
import re

_BAR_W, _BAR_H = 260, 90
_AXIS_W, _AXIS_H, _RIGHT = 34, 16, 32  # room for the share axis (left), the value axis (below), its last label
NOT_MEASURABLE = "not measurable: one side has no values of this feature; never fires, the missing rate covers it"


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
        f"<h3>{html.escape(report['kind'])}: {html.escape(side_name(report['baseline']))} &rarr; "
        f"{html.escape(side_name(report['current']))}</h3>",
        f"<p>drifted features: <b>{html.escape(drifted)}</b></p>",
        *schema_changes(report),
        table(report),
    ]
    if not_measurable(report):
        parts.append(f"<p><small>n/a: {NOT_MEASURABLE}.</small></p>")
    if "significance" in report:
        parts.append(
            f"<p><small>A measure fires when it is over its threshold and its test's q-value (p after a "
            f"Benjamini-Hochberg correction over this comparison) is &le; {report['significance']:g}; "
            f"n = values compared (baseline / current).</small></p>"
        )
    shown = report.get("histograms") or {}
    for feature in report["features"]:
        if feature["feature"] not in shown:
            continue
        css = "bad" if feature["fired"] else ""
        parts.append(f"<h4 class='{css}'>{html.escape(feature['feature'])}</h4><div class='pair'>")
        parts.append(histogram_pair_svg(shown[feature["feature"]]))
        parts.append("</div>")
    return "\n".join(parts)


# How DataDrift named a side before it said what each number is: "Examples <artifact id> (span <span>, <folder>)".
_OLD_SIDE = re.compile(r"^Examples (\d+) \(span ([^,()]+), [^()]*\)$")


def side_name(name: str) -> str:
    """A compared side's name; an old-style one is reworded: "Examples 14 (span 2008, 13)" ->
    "Examples artifact 14 (span 2008)" (the folder number was the producing execution's id)."""
    return _OLD_SIDE.sub(r"Examples artifact \1 (span \2)", name)


def number(value) -> str:
    """A measure's value or threshold; null or NaN (not measurable) reads n/a."""
    return "n/a" if value is None or value != value else f"{value:.4g}"


def not_measurable(report: dict) -> int:
    """How many feature x measure values of the report are null/NaN: n/a, never a pass."""
    return sum(1 for f in report["features"] for v in f["values"].values() if v is None or v != v)


def schema_changes(report: dict) -> list[str]:
    """One red line per feature whose type differs between the two sides (not compared)."""
    return [
        f"<p class='bad'>schema change: {html.escape(c['feature'])} is {html.escape(c['baseline_type'])} in "
        f"{html.escape(side_name(report['baseline']))}, {html.escape(c['current_type'])} in "
        f"{html.escape(side_name(report['current']))}</p>"
        for c in report.get("schema_changes", [])
    ]


def table(report: dict) -> str:
    """Every feature x measure: value / threshold, the measures that fired in red; n and the tests' p (q)."""
    # The measures in the order DataDrift computed them; one a feature lacks is left blank.
    measures = list(dict.fromkeys(m for f in report["features"] for m in f["values"]))
    head = "".join(f"<th>{m}</th>" for m in measures)
    rows = []
    for f in report["features"]:
        cells = []
        for m in measures:
            if m not in f["values"]:
                cells.append("<td></td>")
                continue
            value = f["values"][m]
            if value is None or value != value:  # null (NaN before strict JSON): not measurable, not a pass
                cells.append(
                    f"<td class='na' title='{NOT_MEASURABLE}'>n/a <small>/ {f['thresholds'][m]:g}</small></td>"
                )
                continue
            cls = " class='bad'" if m in f["fired"] else ""
            cells.append(f"<td{cls}>{value:.4g} <small>/ {f['thresholds'][m]:g}</small></td>")
        if "n" in f:  # reports written before n and p were stored show the measures only
            cells.append(f"<td>{f['n']['baseline']} / {f['n']['current']}</td><td>{_tests(f['tests'])}</td>")
        rows.append(f"<tr><td>{html.escape(f['feature'])}</td><td>{html.escape(f['kind'])}</td>{''.join(cells)}</tr>")
    if any("n" in f for f in report["features"]):
        head += "<th>n</th><th>p (q)</th>"
    return f"<table class='drift'><tr><th>feature</th><th>kind</th>{head}</tr>{''.join(rows)}</table>"


def _tests(tests: dict) -> str:
    return "<br>".join(
        f"{html.escape(name)} ({html.escape(t['test'])}): {_p(t['p'])} <small>({_p(t['q'])})</small>"
        for name, t in tests.items()
    )


def _p(value) -> str:
    """A p or q value; null or NaN (not computable, e.g. no data on one side) reads n/a."""
    return "n/a" if value is None or value != value else f"{value:.3g}"


def histogram_pair_svg(bars: dict) -> str:
    """The baseline and current histograms side by side, on one vertical scale, with their axes:
    shares of values (0 to the tallest bar) up the side, the bins' values (lower edges, or categories) below."""
    top = max(max(bars[side], default=0) for side in ("baseline", "current")) or 1.0
    return "".join(_bars(bars[side], bars["labels"], top, side) for side in ("baseline", "current"))


def _bars(shares, labels, top: float, name: str) -> str:
    width = _BAR_W / max(len(shares), 1)
    plot_h = _BAR_H - 12
    bars, ticks = [], []
    for i, (share, label) in enumerate(zip(shares, labels, strict=True)):
        h = share / top * plot_h
        x = _AXIS_W + i * width
        tip = html.escape(f"{label}: {share:.1%}")
        box = f"x='{x:.1f}' y='{_BAR_H - h:.1f}' width='{width * 0.9:.1f}' height='{h:.1f}'"
        bars.append(f"<rect {box}><title>{tip}</title></rect>")
    shown = _tick_positions(len(labels))
    for i in shown:
        x = _AXIS_W + i * width
        text = html.escape(str(labels[i])[:10])
        ticks.append(f"<text class='tick' x='{x:.1f}' y='{_BAR_H + 12}'>{text}</text>")
    axis = (
        f"<text class='axis' x='0' y='{_BAR_H - plot_h + 8}'>{top:.0%}</text>"
        f"<text class='axis' x='0' y='{_BAR_H}'>0%</text>"
        f"<line x1='{_AXIS_W - 2}' y1='{_BAR_H}' x2='{_AXIS_W + _BAR_W}' y2='{_BAR_H}' stroke='#888'/>"
    )
    return (
        f"<svg class='{name}' width='{_AXIS_W + _BAR_W + _RIGHT}' height='{_BAR_H + _AXIS_H}' role='img' "
        f"aria-label='{name}'>"
        f"<text x='{_AXIS_W}' y='10'>{name}</text>{axis}{''.join(bars)}{''.join(ticks)}</svg>"
    )


def _tick_positions(count: int, *, most: int = 5) -> list[int]:
    """Which bins get a value label: every one when few, else about `most`, first and last included."""
    if count <= most:
        return list(range(count))
    step = (count - 1) / (most - 1)
    return sorted({round(i * step) for i in range(most)})


# Shared with the run report, which embeds drift sections in its own page.
STYLE = """
table.drift td,table.drift th{border:1px solid #ccc;padding:2px 6px} .bad{color:#b00;font-weight:bold}
.pair svg{margin-right:1em;border:1px solid #eee}
svg.baseline rect{fill:#4a78b0} svg.current rect{fill:#d08030} svg text{font-size:10px} svg text.tick{font-size:8px}
td.na{color:#7f8c8d;font-style:italic}
"""
