"""Benchmark `ingest_stats_workers`: Ingest + StatisticsGen on 1 vs 2 Beam workers.

Issue 8's production question: what does a second core buy on the ingestion +
statistics path? The same two-node pipeline (tfxgate's Ingest with the taxi
schema, then stock StatisticsGen) runs twice on the same generated CSV, each in
a fresh process on a fresh root, with Beam's DirectRunner in `multi_processing`
mode and `direct_num_workers` 1, then 2. In that mode Ingest takes its Beam
engine (shards read in parallel), so both stages scale with the workers. The
speedup is 1-worker seconds / 2-worker seconds of the two stages, read from ML
Metadata; process seconds (imports, worker start-up) are printed beside them.

Run: `python -m benchmarks.run ingest_stats_workers` (1M rows by default;
`--rows N` for a smaller try).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from benchmarks import mlmd_stages
from benchmarks.data import taxi_data
from benchmarks.process import BIN, REPO, timed_run
from benchmarks.repeats import REPEATS, SPEEDUP, result, worker_comparison

NAME = "ingest_stats_workers"
DEFAULT_ROWS = 1_000_000
STAGES = ("Ingest", "StatisticsGen")
WORKERS = (1, 2)
SCHEMA = REPO / "schemas" / "taxi" / "schema.pbtxt"


def run(workdir: Path, *, rows: Optional[int], repeats: int = REPEATS) -> dict:
    """Runs the pipeline once per worker count, `repeats` times (interleaved); returns the JSON-ready record."""
    data = taxi_data(workdir, rows=rows or DEFAULT_ROWS)
    records = []
    for repeat in range(repeats):
        for n in WORKERS:
            record = _run(workdir / f"repeat-{repeat}", data=data, workers=n)
            record["repeat"] = repeat
            records.append(record)
            stages = " + ".join(f"{s['node']} {s['seconds']:.1f} s" for s in record["stages"])
            print(f"  {record['side']} #{repeat}: {stages}", flush=True)

    compared = [
        worker_comparison(f"{' + '.join(STAGES)} s (ML Metadata)", records, "beam_seconds", note=SPEEDUP),
        worker_comparison("process s", records, "process_seconds"),
    ]
    return result(NAME, data=data, repeats=repeats, records=records, comparisons=compared)


def _run(workdir: Path, *, data: Path, workers: int) -> dict:
    side = f"workers-{workers}"
    root = workdir / side
    root.mkdir(parents=True, exist_ok=True)
    report = workdir / "logs" / f"{side}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    command = [str(BIN / "python"), "-m", "benchmarks.ingest_sides", "--side", "ours", "--statistics"]
    command += ["--workers", str(workers), "--schema", str(SCHEMA)]
    command += ["--data", str(data), "--root", str(root), "--report", str(report)]
    process_seconds = timed_run(command, log=workdir / "logs" / f"{side}.log")
    [run_id] = mlmd_stages.run_ids(root / "metadata.sqlite")
    stages = mlmd_stages.stages_of_run(root / "metadata.sqlite", run_id)
    return {
        "side": side,
        "run": "first",
        "process_seconds": round(process_seconds, 1),
        "pipeline_seconds": json.loads(report.read_text())["seconds"],
        "beam_seconds": round(sum(s["seconds"] for s in stages if s["node"] in STAGES), 1),
        "stages": stages,
        "executed": [s["node"] for s in stages],
        "reran": [s["node"] for s in stages],
        "command": command,
    }
