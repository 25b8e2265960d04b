"""Benchmark `scale_10m`: ingest + validate + drift at 1M and 10M rows, seconds and peak RSS of every process.

A taxi-like CSV (`benchmarks/data.py`: taxi rows sampled with a fixed seed;
10M rows is about 1.3 GB) is written under `--workdir` (put it under /tmp, not
the repo) for each size. Each stage runs in its own process (`scale_sides.py`),
so each process's peak RSS (`ru_maxrss`) is its own: Ingest (streamed, Arrow
copy included), Validate (statistics + anomalies), DataDrift (train split vs
itself as the previous span). Memory should be flat in the row count: the
table compares each stage's peak at 10M with its peak at 1M (target: within
1.5x, and at most 2 GiB per process; issue 20).

`--max-in-memory-bytes` is `runner.max_in_memory_bytes` for Validate and
DataDrift (default: tfxgate's, 2 GiB): above it Validate hands over to TFDV on
Beam and DataDrift refuses, which the table reports as the stage's outcome.
`--runner` is the hook for the portable-runner side (issue 20: 1 and 2
external workers): only `in_process` is implemented here; another value is
refused until the Beam stages take runner options from this benchmark.

Run: `python -m benchmarks.scale_10m --workdir /tmp/scale [--rows 10000000] [--repeat 3]`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Optional

from benchmarks.data import taxi_data
from benchmarks.process import BIN, timed_run
from benchmarks.repeats import REPEATS, comparison, of_side

NAME = "scale_10m"
DEFAULT_ROWS = 10_000_000
SMALL_ROWS = 1_000_000
STAGES = ("ingest", "validate", "drift")


def run(
    workdir: Path, *, rows: Optional[int], repeats: int = REPEATS, max_in_memory_bytes=None, runner="in_process"
) -> dict:
    if runner != "in_process":
        raise SystemExit(f"--runner {runner}: only in_process is measured here (the portable side is issue 20's)")
    big = rows or DEFAULT_ROWS
    small = min(SMALL_ROWS, big // 10)
    records = []
    for size in (small, big):
        data = taxi_data(workdir / f"rows-{size}", rows=size)
        for repeat in range(repeats):
            for record in _once(workdir / f"rows-{size}" / f"repeat-{repeat}", data, max_in_memory_bytes):
                record.update(repeat=repeat, rows=size, side=f"{record['stage']}@{size}")
                records.append(record)
                print(f"  {record['side']} #{repeat}: {record['seconds']} s, {record['peak_rss_mib']} MiB", flush=True)
        shutil.rmtree(workdir / f"rows-{size}" / "data", ignore_errors=True)
    compared = []
    for stage in STAGES:
        for key, unit in (("peak_rss_mib", "MiB"), ("seconds", "s")):
            compared.append(
                comparison(
                    f"{stage}: {key.replace('_', ' ')}, {big:,} vs {small:,} rows",
                    ours=of_side(records, f"{stage}@{big}", key),
                    stock=of_side(records, f"{stage}@{small}", key),
                    unit=unit,
                    ours_label=f"{big:,} rows",
                    stock_label=f"{small:,} rows",
                    note="ratio = small / big: memory is flat when it is above 0.67 (within 1.5x)"
                    if key == "peak_rss_mib"
                    else None,
                )
            )
    outcomes = {r["side"]: r["outcome"] for r in records}
    return {
        "benchmark": NAME,
        "data": str(workdir),
        "rows": big,
        "small_rows": small,
        "repeats": repeats,
        "runs": records,
        "comparisons": compared,
        "outcomes": outcomes,
    }


def _once(workdir: Path, data: Path, max_in_memory_bytes) -> list[dict]:
    examples, found = workdir / "examples", []
    for stage in STAGES:
        report = workdir / "logs" / f"{stage}.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        command = [str(BIN / "python"), "-m", "benchmarks.scale_sides", "--stage", stage]
        command += ["--data", str(data), "--examples", str(examples), "--work", str(workdir), "--report", str(report)]
        if max_in_memory_bytes:
            command += ["--max-in-memory-bytes", str(max_in_memory_bytes)]
        process_seconds = timed_run(command, log=workdir / "logs" / f"{stage}.log", env={"TF_USE_LEGACY_KERAS": "1"})
        measured = json.loads(report.read_text())
        found.append({"stage": stage, "process_seconds": round(process_seconds, 1), "command": command, **measured})
    shutil.rmtree(examples, ignore_errors=True)
    return found


def table(result: dict) -> str:
    from benchmarks.tables import render

    lines = [render(result), "", "Outcomes:"]
    lines += [f"- {side}: {outcome}" for side, outcome in sorted(result.get("outcomes", {}).items())]
    return "\n".join(lines)


def main() -> None:
    import argparse
    import os

    from benchmarks.run import machine

    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{NAME}", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--repeat", type=int, default=REPEATS)
    parser.add_argument("--workdir", type=Path, required=True, help="data and outputs (use /tmp: ~3 GB at 10M rows)")
    parser.add_argument("--max-in-memory-bytes", type=int, help="runner.max_in_memory_bytes (default: tfxgate's)")
    parser.add_argument("--runner", default="in_process", help="in_process (the portable side is issue 20's hook)")
    parser.add_argument("--note")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    found = run(
        args.workdir,
        rows=args.rows,
        repeats=args.repeat,
        max_in_memory_bytes=args.max_in_memory_bytes,
        runner=args.runner,
    )
    found["machine"] = machine(load_before=load, note=args.note)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{NAME}.json").write_text(json.dumps(found, indent=2) + "\n")
    print(table(found))


if __name__ == "__main__":
    main()
