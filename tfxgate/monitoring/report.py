"""The monitoring report: `monitor.json` (every measure, every breach) and `monitor.html`.

The HTML page is a `reporting.document.Document` (self-contained, escaped):
one section per served model with its breaches, the per-slice metrics vs the
evaluation at push time, the prediction drift and the drifted features.
"""

from __future__ import annotations

import json
from pathlib import Path

from tfxgate.monitoring.check import ModelCheck
from tfxgate.reporting.document import Bullets, Document, Paragraph, Section, Table, to_html

JSON_NAME, HTML_NAME = "monitor.json", "monitor.html"


def write(folder: Path, *, header: dict, checks: list[ModelCheck]) -> tuple[Path, Path]:
    """Writes both files into `folder` (created); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {**header, "status": status(checks), "models": [c.to_dict() for c in checks]}
    json_path, html_path = folder / JSON_NAME, folder / HTML_NAME
    json_path.write_text(json.dumps(document, indent=2, sort_keys=True, default=str))
    html_path.write_text(to_html(page(header, checks)))
    return json_path, html_path


def status(checks: list[ModelCheck]) -> str:
    return "breach" if any(c.breaches for c in checks) else "ok"


def page(header: dict, checks: list[ModelCheck]) -> Document:
    title = f"Monitoring of {header['pipeline']} at {header['destination']}: {status(checks).upper()}"
    sections = [
        Section(
            "Batch",
            [Paragraph(f"logs: {header['logs']}" + (f"; labels: {header['labels']}" if header.get("labels") else ""))],
        )
    ]
    for check in checks:
        blocks = [
            Paragraph(
                f"{check.role} version {check.version} (model {check.model_id}): {check.rows} rows, "
                f"{check.labelled} labelled",
                strong=True,
            ),
            Bullets([b.message for b in check.breaches] or ["no breach"]),
        ]
        if check.slices:
            rows, failed = [], set()
            breached = {(b.where, b.measure) for b in check.breaches if b.kind == "concept_drift"}
            for row in check.slices:
                for metric in ("binary_accuracy", "auc", "precision", "recall", "mean_label", "mean_prediction"):
                    cell = row["metrics"].get(metric, {})
                    if (row["slice"], metric) in breached:
                        failed.add(len(rows))
                    rows.append(
                        [
                            row["slice"],
                            str(row["example_count"]),
                            metric,
                            _num(cell.get("value")),
                            _num(cell.get("at_push")),
                            _num(cell.get("delta")),
                        ]
                    )
            blocks.append(Table(["slice", "n", "metric", "serving", "at push", "delta"], rows, failed))
        if check.prediction_drift:
            blocks.append(
                Table(["prediction drift", "value"], [[k, _num(v)] for k, v in sorted(check.prediction_drift.items())])
            )
        drifted = check.data_drift.get("drifted_features", [])
        blocks.append(Paragraph(f"drifted features: {', '.join(drifted) or 'none'}"))
        blocks += [Paragraph(note) for note in check.notes]
        sections.append(Section(f"{check.role} (version {check.version})", blocks))
    return Document(title, sections)


def _num(value) -> str:
    return "-" if value is None else f"{value:.4g}"
