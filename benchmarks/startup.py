"""Benchmark `startup`: `tfxgate check`, `history` and `approve` against `python -c "import tensorflow"`.

The commands that only read or decide must not pay for TensorFlow (issue 19's
target: each costs at most 0.1x of importing TensorFlow, i.e. a ratio of at least
10x here). Each command runs as a fresh process, as a user types it, `repeats`
times, interleaved with the reference import so a change of load hits both
alike. Measured per process: wall seconds and CPU seconds (user + system, from
`getrusage` of the children), CPU being the steadier of the two on a shared
machine.

The store they read is a small real ML Metadata file with pending approvals,
recorded the way the governance tests record it (`tests/test_governance_cli.Setup`):
`approve` approves a different pending run in each repeat and pushes it.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from benchmarks.process import BIN, REPO, SideFailed
from benchmarks.repeats import REPEATS, comparison

NAME = "startup"
REFERENCE = "import tensorflow"


def run(workdir: Path, *, rows: Optional[int], repeats: int = REPEATS) -> dict:
    """Times the reference import and each command `repeats` times; returns the JSON-ready record."""
    del rows  # no data: the commands read a config and a metadata store
    from tests.test_governance_cli import Setup  # the governance tests' store recorder

    setup = Setup(workdir)
    for index in range(repeats):
        setup.pending_run(f"run-{index}", tag=str(index))
    config = str(setup.config)
    commands = {
        REFERENCE: lambda i: [str(BIN / "python"), "-c", REFERENCE],
        "tfxgate check": lambda i: [str(BIN / "tfxgate"), "check", config],
        "tfxgate history": lambda i: [str(BIN / "tfxgate"), "history", "demo", "-c", config],
        "tfxgate approve": lambda i: [
            *(str(BIN / "tfxgate"), "approve", f"run-{i}", "-c", config),
            *("--by", "bench", "--reason", "startup benchmark"),
        ],
    }
    runs = []
    for index in range(repeats):
        for name, command in commands.items():
            wall, cpu = _timed(command(index))
            runs.append({"side": name, "repeat": index, "wall_seconds": wall, "cpu_seconds": cpu})
            print(f"  {name:<18} repeat {index}: wall {wall:.2f} s, cpu {cpu:.2f} s", flush=True)
    reference = [r for r in runs if r["side"] == REFERENCE]
    comparisons = []
    for name in list(commands)[1:]:
        mine = [r for r in runs if r["side"] == name]
        for measure in ("cpu", "wall"):
            key = f"{measure}_seconds"
            comparisons.append(
                comparison(
                    f"`{name}`, {measure} s",
                    ours=[r[key] for r in mine],
                    stock=[r[key] for r in reference],
                    ours_label=name.split()[-1],
                    stock_label=REFERENCE,
                )
            )
    return {
        "benchmark": NAME,
        "repeats": repeats,
        "runs": runs,
        "comparisons": comparisons,
        "notes": [
            f"stock / ours here is `{REFERENCE}` / the command: the target is at least 10× "
            "(each command at most 0.1× of importing TensorFlow)."
        ],
    }


def _timed(command: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one process; CPU = user + system of that child alone."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    wall = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SideFailed(f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(wall, 2), round(cpu, 2)


def table(result: dict) -> str:
    from benchmarks.tables import render

    return render(result)


def main() -> None:
    from benchmarks.report import standalone

    standalone(NAME, __doc__, run, table, default_rows=0)


if __name__ == "__main__":
    sys.exit(main())
