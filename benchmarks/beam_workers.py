"""Benchmark `beam_workers`: ingestion + statistics with Beam's DirectRunner on 1 vs 2 workers.

The production question is not "ours vs stock" but "what does a second core buy":
the same tfxgate pipeline, cut to CsvExampleGen -> StatisticsGen (plus a
one-step Trainer the config cannot leave out, not counted), runs once with
`direct_running_mode: in_memory, direct_num_workers: 1` and once with
`multi_processing, direct_num_workers: 2`, each on a fresh root in a fresh
process. The speedup is workers-1 seconds / workers-2 seconds of the two Beam
stages, read from ML Metadata. Run it with `--rows 1000000`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from benchmarks import mlmd_stages
from benchmarks.data import count_rows, taxi_data
from benchmarks.process import BIN, timed_run

NAME = "beam_workers"
BEAM_STAGES = ("CsvExampleGen", "StatisticsGen")
SETTINGS = {
    "workers-1": "{runner: direct, direct_running_mode: in_memory, direct_num_workers: 1}",
    "workers-2": "{runner: direct, direct_running_mode: multi_processing, direct_num_workers: 2}",
}
CUT = [
    "stages.validation.enabled=false",
    "stages.evaluation.enabled=false",
    "stages.push.enabled=false",
    "stages.trainer.train_steps=1",
    "stages.trainer.eval_steps=1",
]


def run(workdir: Path, *, rows: Optional[int]) -> dict:
    """Runs the cut pipeline with each Beam setting; returns the JSON-ready record."""
    data = taxi_data(workdir, rows=rows)
    records = [_run(workdir, data=data, name=name, beam=beam) for name, beam in SETTINGS.items()]
    beam_seconds = {r["side"]: r["beam_seconds"] for r in records}
    speedup = round(beam_seconds["workers-1"] / beam_seconds["workers-2"], 2)
    print(
        f"{NAME}: CsvExampleGen + StatisticsGen on {count_rows(data)} rows: "
        f"{beam_seconds['workers-1']:.1f} s with 1 worker, {beam_seconds['workers-2']:.1f} s with 2 "
        f"(speedup {speedup:.2f}x)",
        flush=True,
    )
    return {
        "benchmark": NAME,
        "data": str(data),
        "rows": count_rows(data),
        "runs": records,
        "beam_seconds": beam_seconds,
        "speedup_2_workers": speedup,
    }


def _run(workdir: Path, *, data: Path, name: str, beam: str) -> dict:
    root = workdir / name
    sets = [f"data.path={data}", f"runner.beam={beam}", f"stages.push.root={workdir / 'serving'}", *CUT]
    command = [str(BIN / "tfxgate"), "run", "configs/taxi.yaml", "--root", str(root)]
    command += [item for s in sets for item in ("--set", s)]
    seconds = timed_run(command, log=workdir / "logs" / f"{name}.log")
    [summary_path] = (root / "summaries").glob("*.json")
    summary = json.loads(summary_path.read_text())
    stages = mlmd_stages.stages_of_run(root / "metadata.sqlite", summary["run_id"])
    beam_seconds = sum(s["seconds"] for s in stages if s["node"] in BEAM_STAGES)
    return {
        "side": name,
        "run": "first",
        "process_seconds": round(seconds, 1),
        "pipeline_seconds": round(summary["seconds"], 1),
        "beam_seconds": round(beam_seconds, 1),
        "reran": [s["node"] for s in stages if s["state"] == "complete"],
        "executed": [s["node"] for s in stages if s["state"] == "complete"],
        "stages": stages,
        "command": command,
    }
