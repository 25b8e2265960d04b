"""Benchmark `beam_workers`: `tfxgate run`'s ingestion with Beam's DirectRunner on 1 vs 2 workers.

The production question is not "ours vs stock" but "what does a second core buy":
the same tfxgate pipeline, cut to Ingest -> Validate (plus a one-step Trainer
the config cannot leave out, not counted), runs with `direct_running_mode:
in_memory, direct_num_workers: 1` and with `multi_processing,
direct_num_workers: 2`, each on a fresh root in a fresh process, `repeats`
times each (interleaved). Ingest is the stage Beam's workers drive (in
multi-processing mode it takes its Beam engine); Validate computes its
statistics with Arrow in-process and is reported beside it, not in the
speedup. The speedup is the ratio of the medians of Ingest's seconds (ML
Metadata), 1 worker / 2 workers. Run it with `--rows 1000000`.

It used to sum CsvExampleGen + StatisticsGen, which the pipeline no longer has
(Ingest and Validate replaced them): both sums were 0 and the speedup divided
by zero. A stage missing from the run now stops the benchmark with its name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from benchmarks import mlmd_stages
from benchmarks.data import count_rows, taxi_data
from benchmarks.process import BIN, SideFailed, timed_run
from benchmarks.repeats import REPEATS, SPEEDUP, result, worker_comparison

NAME = "beam_workers"
BEAM_STAGE = "Ingest"
ARROW_STAGE = "Validate"
SETTINGS = {
    "workers-1": "{runner: direct, direct_running_mode: in_memory, direct_num_workers: 1}",
    "workers-2": "{runner: direct, direct_running_mode: multi_processing, direct_num_workers: 2}",
}
CUT = [
    "stages.validation.enabled=false",
    "stages.drift.enabled=false",
    "stages.evaluation.enabled=false",
    "stages.push.enabled=false",
    "stages.trainer.train_steps=1",
    "stages.trainer.eval_steps=1",
]


def run(workdir: Path, *, rows: Optional[int], repeats: int = REPEATS) -> dict:
    """Runs the cut pipeline with each Beam setting `repeats` times; returns the JSON-ready record."""
    data = taxi_data(workdir, rows=rows)
    records = []
    for repeat in range(repeats):
        for name, beam in SETTINGS.items():
            record = _run(workdir / f"repeat-{repeat}", data=data, name=name, beam=beam)
            record["repeat"] = repeat
            records.append(record)

    compared = [
        worker_comparison(f"{BEAM_STAGE} s (ML Metadata)", records, "beam_seconds", note=SPEEDUP),
        worker_comparison(f"{ARROW_STAGE} s (Arrow, not Beam)", records, "arrow_seconds"),
        worker_comparison("process s", records, "process_seconds"),
    ]
    print(f"{NAME}: {BEAM_STAGE} on {count_rows(data):,} rows, speedup {compared[0]['ratio']}x", flush=True)
    return result(NAME, data=data, repeats=repeats, records=records, comparisons=compared)


def _run(workdir: Path, *, data: Path, name: str, beam: str) -> dict:
    root = workdir / name
    sets = [f"data.path={data}", f"runner.beam={beam}", f"stages.push.root={workdir / 'serving'}", *CUT]
    command = [str(BIN / "tfxgate"), "run", "configs/taxi.yaml", "--root", str(root)]
    command += [item for s in sets for item in ("--set", s)]
    seconds = timed_run(command, log=workdir / "logs" / f"{name}.log")
    [summary_path] = (root / "summaries").glob("*.json")
    summary = json.loads(summary_path.read_text())
    stages = mlmd_stages.stages_of_run(root / "metadata.sqlite", summary["run_id"])
    by_node = {s["node"]: s["seconds"] for s in stages}
    missing = [n for n in (BEAM_STAGE, ARROW_STAGE) if n not in by_node]
    if missing:
        raise SideFailed(f"{name}: no {', '.join(missing)} in the run's ML Metadata (found: {', '.join(by_node)})")
    return {
        "side": name,
        "run": "first",
        "process_seconds": round(seconds, 1),
        "pipeline_seconds": round(summary["seconds"], 1),
        "beam_seconds": round(by_node[BEAM_STAGE], 2),
        "arrow_seconds": round(by_node[ARROW_STAGE], 2),
        "executed": [s["node"] for s in stages if s["state"] == "complete"],
        "stages": stages,
        "command": command,
    }
