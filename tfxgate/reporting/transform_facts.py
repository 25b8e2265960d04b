"""Transform's part of the run report and the model card: the graph, its module, the pre/post statistics.

Both render the same rows: the run page (run_page.py) as HTML, the model card
(model_card.py) as a document table. The values come from
tfxgate/artifacts/transform.py (`Transform`, or its `asdict` in the run report's JSON).
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any, Optional

STATISTICS_HEADER = ["feature", "kind", "mean", "std dev", "unique", "missing"]


def _plain(value: Any) -> Optional[dict]:
    return asdict(value) if is_dataclass(value) else value


def headline(transform) -> str:
    """One line: the graph artifact, its module and the transformed features."""
    found = _plain(transform)
    features = ", ".join(found["transformed_features"]) or "(transformed schema not found)"
    module = f" from {found['module_file']}" if found.get("module_file") else ""
    return f"Transform graph {found['graph_id']}{module}: {features} ({found['graph_uri']})"


def statistics_rows(side) -> list[list[str]]:
    """Rows (STATISTICS_HEADER) of one side's statistics; [] when none were kept."""
    found = _plain(side)
    if not found:
        return []
    return [
        [f["feature"], f["kind"], _number(f["mean"]), _number(f["std"]), _number(f["unique"]), _share(f["missing"])]
        for f in found["features"]
    ]


def sides(transform) -> list[tuple[str, Optional[int], list[list[str]]]]:
    """(title, examples, rows) for the pre- and the post-transform statistics that were kept."""
    found = _plain(transform)
    out = []
    for key, title in (("pre_transform", "pre-transform statistics"), ("post_transform", "post-transform statistics")):
        if found.get(key):
            out.append((title, found[key]["examples"], statistics_rows(found[key])))
    return out


def _number(value) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _share(value) -> str:
    return "" if value is None else f"{value:.1%}"
