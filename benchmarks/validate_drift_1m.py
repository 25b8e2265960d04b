"""Benchmark `validate_drift_1m`: statistics + validation + drift on 1M taxi rows, ours vs stock TFX.

- ours: `Validate` (Arrow statistics + TFDV's anomalies) + `DataDrift` (five
  measures, this span vs the previous one);
- stock: `StatisticsGen` + `ExampleValidator` + TFDV's drift comparator
  (`tfdv.validate_statistics` with `previous_statistics`, L-inf/JSD on every feature).

Both sides run in one TFX pipeline on the same Ingest output of the same
generated CSV (`benchmarks/data.py`: rows sampled from the taxi data with a fixed
seed) — see `validate_drift_sides.py`. Seconds per component come from ML
Metadata; the ratio is stock / ours over the side's components (target ≥ 5x).

Run alone: `python -m benchmarks.validate_drift_1m [--rows N]`, or through the
harness: `python -m benchmarks.run validate_drift_1m`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from benchmarks import mlmd_stages
from benchmarks.data import count_rows, taxi_data
from benchmarks.process import BIN, timed_run
from benchmarks.report import standalone

NAME = "validate_drift_1m"
DEFAULT_ROWS = 1_000_000
SIDES = {
    "ours": ("Validate", "DataDrift"),
    "stock": ("StatisticsGen", "ExampleValidator", "TfdvDrift"),
}
SHARED = ("ImportSchemaGen", "Ingest")


def run(workdir: Path, *, rows: Optional[int]) -> dict:
    """Runs the two-sided pipeline once; returns the JSON-ready record."""
    data = taxi_data(workdir, rows=rows or DEFAULT_ROWS)
    root, report = workdir / "root", workdir / "logs" / "pipeline.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    command = [str(BIN / "python"), "-m", "benchmarks.validate_drift_sides"]
    command += ["--data", str(data), "--root", str(root), "--report", str(report)]
    process_seconds = timed_run(command, log=workdir / "logs" / "pipeline.log", env={"TF_USE_LEGACY_KERAS": "1"})
    [run_id] = mlmd_stages.run_ids(root / "metadata.sqlite")
    stages = mlmd_stages.stages_of_run(root / "metadata.sqlite", run_id)
    records = []
    for side, nodes in SIDES.items():
        mine = [s for s in stages if s["node"] in nodes]
        records.append(
            {
                "side": side,
                "run": "first",
                "components": list(nodes),
                "component_seconds": round(sum(s["seconds"] for s in mine), 2),
                "process_seconds": round(process_seconds, 1),  # one process for both sides
                "pipeline_seconds": round(sum(s["seconds"] for s in mine), 2),
                "stages": [s for s in stages if s["node"] in nodes or s["node"] in SHARED],
                "executed": [s["node"] for s in mine],
                "command": command,
            }
        )
    seconds = {r["side"]: r["component_seconds"] for r in records}
    return {
        "benchmark": NAME,
        "data": str(data),
        "rows": count_rows(data),
        "runs": records,
        "ratios": {"stock/ours (component seconds)": round(seconds["stock"] / seconds["ours"], 2)},
    }


def table(result: dict) -> str:
    """Both sides' components and seconds, then the ratio."""
    lines = [f"{NAME}: {result['rows']:,} rows from {result['data']}"]
    for record in result["runs"]:
        parts = ", ".join(f"{s['node']} {s['seconds']:.1f}" for s in record["stages"] if s["node"] not in SHARED)
        lines.append(f"{record['side']:<6} {record['component_seconds']:>8.1f} s  ({parts})")
    lines += [f"ratio {name}: {value:.2f}x" for name, value in result["ratios"].items()]
    return "\n".join(lines)


def main() -> None:
    standalone(NAME, __doc__, run, table, default_rows=DEFAULT_ROWS)


if __name__ == "__main__":
    main()
