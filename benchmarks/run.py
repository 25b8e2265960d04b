"""The benchmark harness: `python -m benchmarks.run [NAME ...] [--rows N] [--repeat N] [--out DIR]`.

Runs each named benchmark (all by default), every side `--repeat` times (3 by
default), prints the ours-vs-stock tables (median, min, max, ratio of medians)
and writes `<out>/<name>.json` with every number, the commands and the machine
(with the load average before and after). `python benchmarks/tables.py` then
puts the tables into benchmarks/README.md. The harness itself imports no TFX:
each side runs in its own subprocess.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from benchmarks import (
    beam_workers,
    ingest_1m,
    ingest_stats_workers,
    report,
    startup,
    tables,
    taxi_pipeline,
    trainer_overhead,
    validate_drift_1m,
)
from benchmarks.process import REPO, SideFailed
from benchmarks.repeats import REPEATS

BENCHMARKS = {
    startup.NAME: startup.run,
    taxi_pipeline.NAME: taxi_pipeline.run,
    ingest_1m.NAME: ingest_1m.run,
    beam_workers.NAME: beam_workers.run,
    ingest_stats_workers.NAME: ingest_stats_workers.run,
    validate_drift_1m.NAME: validate_drift_1m.run,
    trainer_overhead.NAME: trainer_overhead.run,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[1])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"which to run (default: all, {list(BENCHMARKS)})")
    parser.add_argument("--rows", type=int, help="input resized to N rows sampled from the taxi CSV (default: its 15k)")
    parser.add_argument("--repeat", type=int, default=REPEATS, help="runs per side (default: %(default)s)")
    parser.add_argument("--note", help="said in the tables' header, e.g. 'machine shared with other work'")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results", help="where <name>.json goes")
    parser.add_argument("--workdir", type=Path, help="keep pipeline roots and logs here (default: a temp dir, removed)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    if args.rows is not None and args.rows < 1:
        print("--rows must be >= 1", file=sys.stderr)
        return 2
    if args.repeat < 1:
        print("--repeat must be >= 1", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    status = 0
    for name in args.names or list(BENCHMARKS):
        workdir = _workdir(args.workdir, name)
        print(f"== {name}: work dir {workdir}", flush=True)
        load_before = os.getloadavg()[0]
        try:
            result = BENCHMARKS[name](workdir, rows=args.rows, repeats=args.repeat)
        except SideFailed as err:  # the work dir stays for its logs
            print(f"{name} FAILED: {err}", file=sys.stderr)
            status = 1
            continue
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        result["machine"] = machine(load_before=load_before, note=args.note)
        path = args.out / f"{name}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        if any("stages" in record for record in result["runs"]):
            print(report.summary_table(result), "", report.stage_table(result), sep="\n")
        print("", tables.render(result), f"\nwrote {path}", sep="\n", flush=True)
    return status


def _workdir(base: Optional[Path], name: str) -> Path:
    if base is None:
        return Path(tempfile.mkdtemp(prefix=f"tfxgate-bench-{name}-"))
    path = (base / name).resolve()
    if path.exists():  # a leftover root would turn the "first" run into a cached one
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def machine(*, load_before: float, note: Optional[str] = None) -> dict:
    """The machine and day of a result, with the 1-minute load average before and after it ran."""
    found = {
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    }
    if note:
        found["note"] = note
    return found


if __name__ == "__main__":
    sys.exit(main())
