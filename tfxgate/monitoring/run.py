"""One `tfxgate monitor` batch: read the logs, judge each served model, record and report.

`monitor` takes values (the governed pipeline, the section, the slicings), not
the config. Each served model is judged on the rows it answered (the
`monitoring.version` column; without one, every row is the stable's), recorded
as a `tfxgate.Monitor` execution (tfxgate/mlmd/monitoring.py) and written to
`<pipeline root>/monitoring/<destination>/<UTC time>/monitor.{json,html}`.
The policy (policy.py) runs afterwards, outside the store's lock.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tfxgate.drift.tables import from_arrow
from tfxgate.governance.store import governed
from tfxgate.governance.target import GovernedPipeline
from tfxgate.mlmd import monitoring as records
from tfxgate.monitoring import logs as log_files
from tfxgate.monitoring import report, serving
from tfxgate.monitoring.check import Limits, ModelCheck, judge
from tfxgate.monitoring.metrics import Slicing
from tfxgate.monitoring.settings import MonitoringSection

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    destination: str
    checks: list[ModelCheck]
    json_path: Path
    html_path: Path
    executions: dict[str, int] = field(default_factory=dict)  # role -> tfxgate.Monitor execution id

    @property
    def status(self) -> str:
        return report.status(self.checks)

    @property
    def breaches(self) -> list:
        return [(c, b) for c in self.checks for b in c.breaches]


def monitor(
    target: GovernedPipeline,
    *,
    destination: str,
    logs: str,
    labels: Optional[str],
    section: MonitoringSection,
    slicings: list[Slicing],
    label: str,
    decision_threshold: float,
) -> Outcome:
    """Judges one batch of serving logs of `destination`; records and reports it."""
    table = log_files.read(logs)
    log_files.require(table, [section.prediction], source=logs)
    if labels:
        table = log_files.with_labels(table, log_files.read(labels), key=section.key, label=label, source=labels)
    found = serving.served(target.destinations[destination].directory, name=destination)
    limits = Limits(
        drift=section.thresholds.drift,
        prediction=section.thresholds.prediction,
        metrics=section.thresholds.metrics,
        min_examples=section.min_examples,
        significance=section.significance,
    )
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    folder = target.root / "monitoring" / destination / stamp
    header = {"pipeline": target.name, "destination": destination, "logs": logs, "labels": labels}
    checks, executions = [], {}
    with governed(target) as store:
        found = [serving.with_pushed_model(store, s, pipeline=target.name, destination=destination) for s in found]
        for item in found:
            rows = _rows_of(table, item, found, column=section.version)
            checks.append(_judge(store, item, rows, section, slicings, label, decision_threshold, limits))
        json_path, html_path = report.write(folder, header=header, checks=checks)
        for item, check in zip(found, checks, strict=True):
            executions[item.role] = records.record(
                store,
                pipeline=target.name,
                destination=destination,
                version=item.version,
                role=item.role,
                logs=logs,
                status="breach" if check.breaches else "ok",
                breaches=[b.__dict__ for b in check.breaches],
                measures={
                    "rows": check.rows,
                    "labelled": check.labelled,
                    "prediction_drift": check.prediction_drift,
                    "drifted_features": check.data_drift.get("drifted_features", []),
                    "slices": check.slices,
                },
                result_uri=str(folder),
                model_id=item.model_id,
                pushed_model_id=item.pushed_model_id,
            )
    return Outcome(destination, checks, json_path, html_path, executions)


def _rows_of(table: pa.Table, item: serving.Served, found: list, *, column: str) -> pa.Table:
    if column not in table.column_names:
        return table if item.role == "stable" else table.slice(0, 0)
    versions = pc.cast(table[column], pa.string())
    if item.role == "candidate" or len(found) == 1:
        return table.filter(pc.equal(versions, item.version))
    # The stable answers every row no candidate answered (a log without the version is the stable's).
    others = [s.version for s in found if s.role == "candidate"]
    return table.filter(pc.invert(pc.fill_null(pc.is_in(versions, pa.array(others)), False)))


def _judge(store, item, rows: pa.Table, section, slicings, label, decision_threshold, limits) -> ModelCheck:
    labelled = log_files.labelled(rows, label)
    check = ModelCheck(item.role, item.version, item.model_id, rows.num_rows, labelled.num_rows)
    if item.model_id is None:
        check.notes.append("no model id in the version's manifest: nothing to compare with")
        return check
    base = serving.baseline(store, item.model_id, label=label)
    reference = None
    if base.examples_uri is not None:
        try:
            reference = serving.reference_predictions(item.directory, base.examples_uri)
        except (OSError, KeyError, ValueError) as err:
            log.exception("reference predictions of model %s", item.model_id)
            check.notes.append(f"reference predictions failed: {err}")
    dropped = {section.prediction, section.key, section.version, label}
    serving_columns, serving_categorical = from_arrow(rows.drop([c for c in dropped if c in rows.column_names]))
    labelled_columns, _ = from_arrow(labelled)
    return judge(
        check,
        training=base.training,
        training_categorical=base.categorical,
        serving=serving_columns,
        serving_categorical=serving_categorical,
        predictions=_floats(rows[section.prediction]),
        reference_predictions=reference,
        labelled=labelled_columns,
        labels=_floats(labelled[label]) if labelled.num_rows else None,
        labelled_predictions=_floats(labelled[section.prediction]),
        at_push=base.at_push,
        slicings=slicings,
        decision_threshold=decision_threshold,
        limits=limits,
    )


def _floats(column) -> np.ndarray:
    return pc.cast(column, pa.float64()).combine_chunks().fill_null(float("nan")).to_numpy(zero_copy_only=False)
