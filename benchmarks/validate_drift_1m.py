"""Benchmark `validate_drift_1m`: statistics + validation + drift on 1M taxi rows, ours vs stock TFX.

- ours: `Ingest` (tf.Examples + its Arrow copy) + `Validate` (Arrow statistics
  + TFDV's anomalies) + `DataDrift` (five measures, this span vs the previous one);
- stock: `CsvExampleGen` + `StatisticsGen` + `ExampleValidator` + TFDV's drift
  comparator (`tfdv.validate_statistics` with `previous_statistics`, L-inf/JSD
  on every feature).

Both sides start from the same generated CSV (`benchmarks/data.py`: rows
sampled from the taxi data with a fixed seed) and run in one TFX pipeline per
repeat — see `validate_drift_sides.py`. Seconds per component come from ML
Metadata; the ratio is stock / ours of the medians of each side's component
sum (target ≥ 20x on 1M rows, issue 19).

Run alone: `python -m benchmarks.validate_drift_1m [--rows N]`, or through the
harness: `python -m benchmarks.run validate_drift_1m`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from benchmarks import mlmd_stages
from benchmarks.data import taxi_data
from benchmarks.process import BIN, timed_run
from benchmarks.repeats import REPEATS, comparison, of_side, result
from benchmarks.report import standalone

NAME = "validate_drift_1m"
DEFAULT_ROWS = 1_000_000
SIDES = {
    "ours": ("Ingest", "Validate", "DataDrift"),
    "stock": ("CsvExampleGen", "StatisticsGen", "ExampleValidator", "TfdvDrift"),
}
SHARED = ("ImportSchemaGen",)


def run(workdir: Path, *, rows: Optional[int], repeats: int = REPEATS) -> dict:
    """Runs the two-sided pipeline `repeats` times, each on a fresh root; returns the JSON-ready record."""
    data = taxi_data(workdir, rows=rows or DEFAULT_ROWS)
    records = []
    for repeat in range(repeats):
        for record in _once(workdir / f"repeat-{repeat}", data):
            record["repeat"] = repeat
            records.append(record)
            print(f"  {record['side']} #{repeat}: {record['component_seconds']:.1f} s", flush=True)

    per_stage = []
    for ours_node, stock_nodes in (("Ingest", ("CsvExampleGen",)), ("Validate", ("StatisticsGen", "ExampleValidator"))):
        per_stage.append(
            comparison(
                f"{ours_node} vs {' + '.join(stock_nodes)}, s",
                ours=_stage_seconds(records, "ours", (ours_node,)),
                stock=_stage_seconds(records, "stock", stock_nodes),
                ours_label=ours_node,
                stock_label=" + ".join(stock_nodes),
            )
        )
    overall = comparison(
        "ingest + validate + drift, component s (ML Metadata)",
        ours=of_side(records, "ours", "component_seconds"),
        stock=of_side(records, "stock", "component_seconds"),
        ours_label=" + ".join(SIDES["ours"]),
        stock_label=" + ".join(SIDES["stock"]),
    )
    return result(NAME, data=data, repeats=repeats, records=records, comparisons=[overall, *per_stage])


def _once(workdir: Path, data: Path) -> list[dict]:
    root, report = workdir / "root", workdir / "logs" / "pipeline.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    command = [str(BIN / "python"), "-m", "benchmarks.validate_drift_sides"]
    command += ["--data", str(data), "--root", str(root), "--report", str(report)]
    process_seconds = timed_run(command, log=workdir / "logs" / "pipeline.log")
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
    return records


def _stage_seconds(records: list[dict], side: str, nodes: tuple[str, ...]) -> list[float]:
    return [sum(s["seconds"] for s in r["stages"] if s["node"] in nodes) for r in records if r["side"] == side]


def table(result: dict) -> str:
    from benchmarks.tables import render

    return render(result)


def main() -> None:
    standalone(NAME, __doc__, run, table, default_rows=DEFAULT_ROWS)


if __name__ == "__main__":
    main()
