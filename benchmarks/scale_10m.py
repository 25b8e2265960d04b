"""Benchmark `scale_10m`: ingest + validate + drift at 1M and 10M rows, seconds and peak RSS of every process.

A taxi-like CSV (`benchmarks/data.py`: taxi rows sampled with a fixed seed;
10M rows is about 1.3 GB) is written under `--workdir` (put it under /tmp, not
the repo) for each size. Each stage runs in its own process (`scale_sides.py`),
so each process's peak RSS (`ru_maxrss`) is its own: Ingest (streamed, Arrow
copy included), Validate (statistics + anomalies), DataDrift (train split vs
itself as the previous span). Memory should be flat in the row count: the
table compares each stage's peak at 10M with its peak at 1M (target: within
1.5x, and at most 2 GiB per process; issue 20).

`--max-in-memory-bytes` is `runner.max_in_memory_bytes` for Validate (default:
tfxgate's, 2 GiB): above it Validate hands over to TFDV on Beam, which the
table reports as the stage's outcome. DataDrift reads its splits batch by batch
and is not bounded by it.

`--runner portable --workers N` adds the portable side, in the same invocation
(every repeat runs both sides, stage by stage): for Ingest and Validate a local
cluster (`pipelines/beam_cluster.py`, as `tfxgate beam-cluster up`: Beam's job
service, N external worker pools and their router) is started, the stage's Beam
path runs on it (Ingest's Beam engine; TFDV's statistics on Beam) and the
cluster is stopped; DataDrift reads the portable Ingest's TFRecords in the
driver (its Beam path, `components/drift/beam_summary.py`, is not measured
here). Every process's peak RSS is recorded: the driver's own `ru_maxrss`, and
each cluster process's VmHWM (job service, router, each pool and each SDK worker
the pools fork), sampled every 0.25 s while the stage runs (an SDK worker that
grows in its last quarter second before exiting is under-reported). The table
lists the largest process and the sum over the processes; the result JSON keeps
every process. Results of the portable side go to
`scale_10m_portable_<N>w.json`. `--in-process-from results/scale_10m.json` runs
the portable side alone and compares it with the in-process runs recorded there
(same sizes), instead of re-running them every repeat; `--portable-from
results/scale_10m_portable_<N>w.json` adds that file's portable runs as earlier
repeats (so repeats taken in different sittings share one median).

Run: `python -m benchmarks.scale_10m --workdir /tmp/scale [--rows 10000000] [--repeat 3]
[--runner portable --workers 2 [--in-process-from benchmarks/results/scale_10m.json ...]]`.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Optional, Sequence

from benchmarks.data import taxi_data
from benchmarks.process import BIN, SIDE_ENV, timed_run
from benchmarks.repeats import REPEATS, comparison, of_side

NAME = "scale_10m"
DEFAULT_ROWS = 10_000_000
SMALL_ROWS = 1_000_000
STAGES = ("ingest", "validate", "drift")


PORTABLE = "portable"


def run(
    workdir: Path,
    *,
    rows: Optional[int],
    repeats: int = REPEATS,
    max_in_memory_bytes=None,
    runner="in_process",
    workers: int = 1,
    in_process_from: Sequence[Path] = (),
    portable_from: Sequence[Path] = (),
) -> dict:
    if runner not in ("in_process", PORTABLE):
        raise SystemExit(f"--runner {runner}: in_process or portable")
    big = rows or DEFAULT_ROWS
    small = min(SMALL_ROWS, big // 10)
    records = []
    if in_process_from:
        if runner != PORTABLE:
            raise SystemExit("--in-process-from: only with --runner portable")
        records = _recorded_in_process(in_process_from, sizes=(small, big))
    earlier = 0
    if portable_from:
        if runner != PORTABLE:
            raise SystemExit("--portable-from: only with --runner portable")
        recorded = _recorded_portable(portable_from, sizes=(small, big), workers=workers)
        records += recorded
        earlier = 1 + max(r["repeat"] for r in recorded)
    for size in (small, big):
        data = taxi_data(workdir / f"rows-{size}", rows=size)
        for repeat in range(earlier, earlier + repeats):
            found = []
            if not in_process_from:
                found = _once(workdir / f"rows-{size}" / f"repeat-{repeat}", data, max_in_memory_bytes)
            if runner == PORTABLE:
                found += _once_portable(workdir / f"rows-{size}" / f"repeat-{repeat}", data, workers=workers)
            for record in found:
                suffix = f"/portable x{workers}" if record.get("runner") == PORTABLE else ""
                record.update(repeat=repeat, rows=size, side=f"{record['stage']}{suffix}@{size}")
                records.append(record)
                print(f"  {record['side']} #{repeat}: {record['seconds']} s, {_memory(record)}", flush=True)
        shutil.rmtree(workdir / f"rows-{size}" / "data", ignore_errors=True)
    if runner == PORTABLE:
        result = _portable_result(
            records, big=big, small=small, repeats=earlier + repeats, workers=workers, workdir=workdir
        )
        if in_process_from:
            names = ", ".join(path.name for path in in_process_from)
            result["notes"].append(f"in process: the runs recorded in {names}, not re-run here")
        if portable_from:
            names = ", ".join(path.name for path in portable_from)
            result["notes"].append(f"portable repeats 0-{earlier - 1}: recorded in {names} before this run")
        return result
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


def _recorded_in_process(paths: Sequence[Path], *, sizes: tuple[int, int]) -> list[dict]:
    """The in-process runs of earlier `scale_10m` results at both sizes (the portable side's comparison)."""
    recorded = [
        r
        for path in paths
        for r in json.loads(path.read_text())["runs"]
        if r.get("runner", "in_process") == "in_process" and r["rows"] in sizes
    ]
    missing = [size for size in sizes if not any(r["rows"] == size for r in recorded)]
    if missing:
        raise SystemExit(f"--in-process-from {', '.join(map(str, paths))}: no in-process run at {missing} rows")
    return recorded


def _recorded_portable(paths: Sequence[Path], *, sizes: tuple[int, int], workers: int) -> list[dict]:
    """The portable runs of earlier results with the same worker count, renumbered as repeats 0, 1, ..."""
    recorded, offset = [], 0
    for path in paths:
        runs = [
            dict(r, repeat=offset + r["repeat"])
            for r in json.loads(path.read_text())["runs"]
            if r.get("runner") == PORTABLE
            and r["rows"] in sizes
            and r["side"].startswith(tuple(f"{stage}/portable x{workers}@" for stage in STAGES))
        ]
        if not runs:
            raise SystemExit(f"--portable-from {path}: no portable run with {workers} worker(s) at {sizes} rows")
        recorded += runs
        offset = 1 + max(r["repeat"] for r in recorded)
    return recorded


def _memory(record: dict) -> str:
    if "cluster_peaks_mib" not in record:
        return f"{record['peak_rss_mib']} MiB"
    return (
        f"driver {record['peak_rss_mib']} MiB, largest process {record['max_process_mib']} MiB, "
        f"sum {record['sum_processes_mib']} MiB over {len(record['cluster_peaks_mib']) + 1} processes"
    )


def _portable_result(records, *, big: int, small: int, repeats: int, workers: int, workdir: Path) -> dict:
    """Portable side vs in-process side per stage at each size; and the portable side's own flatness."""
    compared = []
    for stage in STAGES:
        portable = f"{stage}/portable x{workers}"
        for size in sorted({small, big}):
            for key, unit, what in (
                ("seconds", "s", "seconds"),
                ("max_process_mib", "MiB", "largest process peak RSS"),
                ("sum_processes_mib", "MiB", "sum of every process's peak RSS"),
            ):
                compared.append(
                    comparison(
                        f"{stage}: {what}, {size:,} rows",
                        ours=of_side(records, f"{portable}@{size}", key),
                        stock=of_side(records, f"{stage}@{size}", key),
                        unit=unit,
                        ours_label=f"portable, {workers} worker(s)",
                        stock_label="in process",
                    )
                )
        compared.append(
            comparison(
                f"{stage} (portable): largest process peak RSS, {big:,} vs {small:,} rows",
                ours=of_side(records, f"{portable}@{big}", "max_process_mib"),
                stock=of_side(records, f"{portable}@{small}", "max_process_mib"),
                unit="MiB",
                ours_label=f"{big:,} rows",
                stock_label=f"{small:,} rows",
                note="ratio = small / big: memory is flat when it is above 0.67 (within 1.5x)",
            )
        )
    return {
        "benchmark": f"{NAME}_portable_{workers}w",
        "data": str(workdir),
        "rows": big,
        "small_rows": small,
        "repeats": repeats,
        "workers": workers,
        "runs": records,
        "comparisons": compared,
        "outcomes": {r["side"]: r["outcome"] for r in records},
        "notes": [
            "ratio = in process / portable (above 1: the portable side was faster or smaller)",
            "portable: Ingest's Beam engine and TFDV's statistics on Beam run on a local job service with "
            f"{workers} external worker pool(s) (pipelines/beam_cluster.py); DataDrift runs in the driver on the "
            "portable Ingest's TFRecords (its Beam path is not measured here)",
            "largest process / sum: over the driver, the job service, the router, each pool and each SDK worker "
            "(VmHWM sampled every 0.25 s; every process is listed in the JSON)",
        ],
    }


def _once(workdir: Path, data: Path, max_in_memory_bytes) -> list[dict]:
    examples, found = workdir / "examples", []
    for stage in STAGES:
        found.append(_stage(workdir, stage, data=data, examples=examples, max_in_memory_bytes=max_in_memory_bytes))
        found[-1].update(runner="in_process", max_process_mib=found[-1]["peak_rss_mib"])
        found[-1]["sum_processes_mib"] = found[-1]["peak_rss_mib"]
    shutil.rmtree(examples, ignore_errors=True)
    return found


def _stage(workdir: Path, stage: str, *, data: Path, examples: Path, max_in_memory_bytes=None, beam_args=None):
    tag = "-portable" if beam_args else ""
    report = workdir / "logs" / f"{stage}{tag}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    command = [str(BIN / "python"), "-m", "benchmarks.scale_sides", "--stage", stage]
    command += ["--data", str(data), "--examples", str(examples), "--work", str(workdir / f"work{tag}")]
    command += ["--report", str(report)]
    if max_in_memory_bytes:
        command += ["--max-in-memory-bytes", str(max_in_memory_bytes)]
    if beam_args:
        command += ["--beam-args", json.dumps(beam_args)]
    log = workdir / "logs" / f"{stage}{tag}.log"
    process_seconds = timed_run(command, log=log)
    measured = json.loads(report.read_text())
    return {"stage": stage, "process_seconds": round(process_seconds, 1), "command": command, **measured}


def _once_portable(workdir: Path, data: Path, *, workers: int) -> list[dict]:
    """Each stage once on the portable side: a fresh cluster for Ingest and Validate (their own peaks)."""
    from tfxgate.pipelines import beam_cluster
    from tfxgate.pipelines.config.beam import BeamSection

    examples, found = workdir / "examples-portable", []
    for stage in STAGES:
        if stage == "drift":  # in the driver, on the portable Ingest's TFRecords (its Beam path: not measured)
            record = _stage(workdir, stage, data=data, examples=examples)
            record.update(cluster_peaks_mib={}, beam_args=None)
        else:
            state_dir = workdir / f"cluster-{stage}"
            state = beam_cluster.up(workers=workers, state_dir=state_dir, worker_env=SIDE_ENV)
            sampler = PeakSampler(state["processes"])
            try:
                beam_args = BeamSection(**state["beam"]).pipeline_args()
                record = _stage(workdir, stage, data=data, examples=examples, beam_args=beam_args)
            finally:
                sampler.stop()
                beam_cluster.down(state_dir)
            record.update(cluster_peaks_mib=sampler.peaks, beam_args=beam_args)
        record["runner"] = PORTABLE
        cluster = list(record["cluster_peaks_mib"].values())
        record["max_process_mib"] = max([record["peak_rss_mib"], *cluster])
        record["sum_processes_mib"] = record["peak_rss_mib"] + sum(cluster)
        found.append(record)
    shutil.rmtree(examples, ignore_errors=True)
    return found


class PeakSampler:
    """Every cluster process's and its descendants' peak RSS (VmHWM, MiB), polled on a thread until `stop`."""

    def __init__(self, processes: list[dict], *, every: float = 0.25):
        self.roots = {p["pid"]: p["name"] for p in processes}
        self.peaks: dict[str, int] = {}
        self._done = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        import psutil

        while True:
            for pid, name in self.roots.items():
                try:
                    root = psutil.Process(pid)
                    family = [(name, root)] + [(f"{name}/sdk_worker {c.pid}", c) for c in root.children(recursive=True)]
                except psutil.Error:
                    continue
                for label, process in family:
                    peak = _vm_hwm_mib(process.pid)
                    if peak is not None:
                        self.peaks[label] = max(self.peaks.get(label, 0), peak)
            if self._done.wait(self._every):
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _vm_hwm_mib(pid: int) -> Optional[int]:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024)
    except OSError:
        return None
    return None


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
    parser.add_argument("--runner", default="in_process", choices=["in_process", PORTABLE], help="portable: both sides")
    parser.add_argument("--workers", type=int, default=1, help="external worker pools of the portable side")
    parser.add_argument(
        "--in-process-from",
        type=Path,
        nargs="+",
        default=[],
        help="scale_10m result JSON(s): compare with their in-process runs instead of re-running them",
    )
    parser.add_argument(
        "--portable-from",
        type=Path,
        nargs="+",
        default=[],
        help="scale_10m_portable result JSON(s) with the same --workers: their runs count as earlier repeats",
    )
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
        workers=args.workers,
        in_process_from=args.in_process_from,
        portable_from=args.portable_from,
    )
    found["machine"] = machine(load_before=load, note=args.note)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{found['benchmark']}.json").write_text(json.dumps(found, indent=2) + "\n")
    print(table(found))


if __name__ == "__main__":
    main()
