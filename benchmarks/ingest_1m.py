"""Benchmark `ingest_1m`: ingesting a 1M-row taxi CSV, Ingest vs CsvExampleGen, with Arrow's floor.

Both pipeline sides read the same generated CSV (`benchmarks/data.py`, rows
sampled from the taxi data with a fixed seed) into train/eval tf.Examples with
the same split config, each in a fresh process; the component's seconds come
from ML Metadata. The floor is a bare `pyarrow.csv.read_csv` of the same file:
no typing, no splits, no tf.Example, no writing — what no ingestion can beat.

Run alone: `python -m benchmarks.ingest_1m [--rows N] [--workdir DIR]` (prints
the JSON, the table and the ratio), or through the harness:
`python -m benchmarks.run ingest_1m`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from benchmarks import mlmd_stages
from benchmarks.data import taxi_data
from benchmarks.process import BIN, timed_run
from benchmarks.repeats import REPEATS, comparison, of_side, result
from benchmarks.report import standalone

NAME = "ingest_1m"
DEFAULT_ROWS = 1_000_000
COMPONENT = {"ours": "Ingest", "stock": "CsvExampleGen"}


def run(workdir: Path, *, rows: Optional[int], repeats: int = REPEATS) -> dict:
    """Times floor, ours and stock `repeats` times each (interleaved); returns the JSON-ready record."""
    data = taxi_data(workdir, rows=rows or DEFAULT_ROWS)
    records = []
    for repeat in range(repeats):
        for side in ("ours", "stock", "floor"):
            record = _side(side, workdir / f"repeat-{repeat}", data)
            record["repeat"] = repeat
            records.append(record)

    def values(side: str, key: str) -> list[float]:
        return of_side(records, side, key)

    compared = [
        comparison(
            "ingest component s (ML Metadata)",
            ours=values("ours", "component_seconds"),
            stock=values("stock", "component_seconds"),
            ours_label="Ingest",
            stock_label="CsvExampleGen",
        ),
        comparison("pipeline s", ours=values("ours", "pipeline_seconds"), stock=values("stock", "pipeline_seconds")),
        comparison("process s", ours=values("ours", "process_seconds"), stock=values("stock", "process_seconds")),
        comparison(
            "Ingest vs the floor, s",
            ours=values("floor", "component_seconds"),
            stock=values("ours", "component_seconds"),
            ours_label="pyarrow.csv.read_csv",
            stock_label="Ingest",
            note="in the last row, the ratio is Ingest / bare pyarrow read (target: at most 5×)",
        ),
    ]
    return result(NAME, data=data, repeats=repeats, records=records, comparisons=compared)


def _side(side: str, workdir: Path, data: Path) -> dict:
    root = workdir / side
    root.mkdir(parents=True, exist_ok=True)
    report = workdir / "logs" / f"{side}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    command = [str(BIN / "python"), "-m", "benchmarks.ingest_sides", "--side", side]
    command += ["--data", str(data), "--root", str(root), "--report", str(report)]
    process_seconds = timed_run(command, log=workdir / "logs" / f"{side}.log")
    inner = json.loads(report.read_text())["seconds"]
    record = {
        "side": side,
        "run": "first",
        "process_seconds": round(process_seconds, 1),
        "pipeline_seconds": inner,
        "stages": [],
        "command": command,
    }
    if side != "floor":
        [run_id] = mlmd_stages.run_ids(root / "metadata.sqlite")
        record["stages"] = mlmd_stages.stages_of_run(root / "metadata.sqlite", run_id)
        [stage] = [s for s in record["stages"] if s["node"] == COMPONENT[side]]
        record["component_seconds"] = stage["seconds"]
    else:
        record["component_seconds"] = inner
    # Both spellings: the harness's table has used each.
    record["executed"] = record["reran"] = [s["node"] for s in record["stages"]]
    return record


def table(result: dict) -> str:
    from benchmarks.tables import render

    return render(result)


def main() -> None:
    standalone(NAME, __doc__, run, table, default_rows=DEFAULT_ROWS)


if __name__ == "__main__":
    main()
