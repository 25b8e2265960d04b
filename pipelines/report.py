"""`tfxgate report`: one run of a configured pipeline -> one HTML file.

The config locates the store (SQLite under the root, or the MySQL server) the
same way `tfxgate run` does; the page goes to `<root>/reports/<run-id>.html`
unless an output file is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from tfxgate import storage
from tfxgate.mlmd.store import MetadataError, address, open_store
from tfxgate.pipelines.config.root import PipelineConfig
from tfxgate.reporting import run_page as page
from tfxgate.reporting.run_facts import ReportError, RunReport, collect


def read(config: PipelineConfig, *, run_id: Optional[str] = None) -> RunReport:
    """The facts of one run (the latest when `run_id` is None) from the config's store.

    Raises:
      ReportError: no store yet, or no such run (the message lists the latest runs).
      MetadataError: a MySQL store cannot be used.
    """
    where = address(config.metadata, root=config.pipeline.root)
    if config.metadata_path is not None and not config.metadata_path.exists():
        raise ReportError(f"no ML Metadata at {where}: has pipeline '{config.pipeline.name}' run with this root?")
    store = open_store(config.metadata, root=config.pipeline.root, read_only=True)
    return collect(store, pipeline=config.pipeline.name, run_id=run_id, address=where)


def chart_options(config: PipelineConfig) -> dict:
    """The per-slice chart's metric: the first one the config gates, as SliceEval's own report picks it."""
    evaluation = config.stages.evaluation
    metric = next(iter([*evaluation.thresholds, *evaluation.overall]), "binary_accuracy")
    gate = evaluation.thresholds.get(metric) or evaluation.overall.get(metric)
    return {"chart_metric": metric, "minimum": gate.min if gate else None}


def html(config: PipelineConfig, report: RunReport) -> str:
    """The page for one run's facts."""
    return page.render(report, **chart_options(config))


def write(config: PipelineConfig, *, run_id: Optional[str] = None, output: Optional[Path] = None) -> Path:
    """Writes the report of one run and returns where it went."""
    report = read(config, run_id=run_id)
    if output is None:
        output = config.pipeline.root / "reports" / f"{report.run_id.replace(':', '-')}.html"
    return storage.write_text(output, html(config, report))  # a reader never sees half a page


__all__ = ["MetadataError", "ReportError", "chart_options", "html", "read", "write"]
