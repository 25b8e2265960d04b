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
from benchmarks.data import count_rows, taxi_data
from benchmarks.process import BIN, timed_run
from benchmarks.report import standalone

NAME = "ingest_1m"
DEFAULT_ROWS = 1_000_000
COMPONENT = {"ours": "Ingest", "stock": "CsvExampleGen"}


def run(workdir: Path, *, rows: Optional[int]) -> dict:
    """Times floor, ours and stock once each; returns the JSON-ready record."""
    data = taxi_data(workdir, rows=rows or DEFAULT_ROWS)
    records = [_side(side, workdir, data) for side in ("ours", "stock", "floor")]
    seconds = {r["side"]: r["pipeline_seconds"] for r in records}
    component = {r["side"]: r.get("component_seconds") for r in records}
    return {
        "benchmark": NAME,
        "data": str(data),
        "rows": count_rows(data),
        "runs": records,
        "ratios": {
            "stock/ours (component seconds)": round(component["stock"] / component["ours"], 2),
            "stock/ours (pipeline seconds)": round(seconds["stock"] / seconds["ours"], 2),
            "ours/floor (component seconds)": round(component["ours"] / seconds["floor"], 2),
        },
    }


def _side(side: str, workdir: Path, data: Path) -> dict:
    root = workdir / side
    root.mkdir(parents=True, exist_ok=True)
    report = workdir / "logs" / f"{side}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    command = [str(BIN / "python"), "-m", "benchmarks.ingest_sides", "--side", side]
    command += ["--data", str(data), "--root", str(root), "--report", str(report)]
    process_seconds = timed_run(command, log=workdir / "logs" / f"{side}.log", env={"TF_USE_LEGACY_KERAS": "1"})
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
    """side | component s | pipeline s | process s, then the ratios."""
    lines = [f"{NAME}: {result['rows']:,} rows from {result['data']}"]
    header = f"{'side':<8}{'what':<34}{'component s':>12}{'pipeline s':>12}{'process s':>11}"
    lines += [header, "-" * len(header)]
    what = {"ours": "tfxgate Ingest", "stock": "stock CsvExampleGen", "floor": "pyarrow.csv.read_csv (floor)"}
    for r in result["runs"]:
        lines.append(
            f"{r['side']:<8}{what[r['side']]:<34}{r['component_seconds']:>12.1f}"
            f"{r['pipeline_seconds']:>12.1f}{r['process_seconds']:>11.1f}"
        )
    lines += [f"ratio {name}: {value:.2f}x" for name, value in result["ratios"].items()]
    return "\n".join(lines)


def main() -> None:
    result = standalone(NAME, __doc__, run, table, default_rows=DEFAULT_ROWS)
    print(json.dumps(result["ratios"], indent=2))


if __name__ == "__main__":
    main()
