"""The run report's own chart: the stage timeline as inline SVG.

One bar per stage at its start offset, its length the stage's seconds; cached
stages are grey, failed ones red. (The per-slice chart and the drift histograms
come from their components' report modules, so each chart is drawn in one place.)
"""

from __future__ import annotations

import html

_COLORS = {"complete": "#2e86c1", "cached": "#aab7b8", "resolved": "#aab7b8", "failed": "#c0392b"}


def timeline_svg(stages: list[dict], *, width: int = 820, bar: int = 18) -> str:
    """A Gantt-style chart of `stages` (dicts with node, state, start, seconds)."""
    label_w = 190
    total = max((s["start"] + s["seconds"] for s in stages), default=0.0) or 1.0
    scale = (width - label_w - 70) / total
    height = bar * len(stages) + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{width}" height="{height}" role="img">']
    for i, stage in enumerate(stages):
        y = i * bar
        x = label_w + stage["start"] * scale
        length = max(stage["seconds"] * scale, 1.5)
        color = _COLORS.get(stage["state"], "#7f8c8d")
        label = f"{stage['node']} ({stage['state']})"
        parts.append(f'<text x="0" y="{y + bar - 5}" font-size="11">{html.escape(label)}</text>')
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="{bar - 6}" fill="{color}">'
            f"<title>{html.escape(label)}: {stage['seconds']:.1f} s</title></rect>"
        )
        parts.append(f'<text x="{x + length + 4:.1f}" y="{y + bar - 5}" font-size="11">{stage["seconds"]:.1f} s</text>')
    axis_y = bar * len(stages) + 16
    parts.append(f'<text x="{label_w}" y="{axis_y}" font-size="10">0 s</text>')
    parts.append(f'<text x="{width - 70}" y="{axis_y}" font-size="10">{total:.1f} s</text>')
    parts.append("</svg>")
    return "".join(parts)
