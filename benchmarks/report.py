"""The tables the harness prints: one line per side and run, then seconds per stage.

Ratios are stock / ours, so a number above 1 means tfxgate was faster. Process
seconds include interpreter start and imports; pipeline seconds are the
runner's own time; stage seconds come from ML Metadata on both sides.
"""

from __future__ import annotations


def summary_table(result: dict) -> str:
    """One line per run: side | run | repeat | process s | pipeline s | stages that executed.

    Ratios are not here: they are taken between medians, in the comparison
    table (`tables.render`).
    """
    header = f"{'side':<12}{'run':<7}{'repeat':>7}{'process s':>10}{'pipeline s':>11}  executed (not from cache)"
    lines = [f"{result['benchmark']}: every run", header, "-" * len(header)]
    for record in result["runs"]:
        executed = ", ".join(record.get("executed", [])) or "nothing (all cached)"
        lines.append(
            f"{record['side']:<12}{record.get('run', ''):<7}{record.get('repeat', 0):>7}"
            f"{record['process_seconds']:>10.1f}{record['pipeline_seconds']:>11.1f}  {executed}"
        )
    pushed = result.get("pushed_versions")
    if pushed:
        lines.append("model versions pushed: " + ", ".join(f"{side} {count}" for side, count in pushed.items()))
    return "\n".join(lines)


def stage_table(result: dict) -> str:
    """Seconds per stage (from ML Metadata) for every side and run; `c` marks a cache hit."""
    runs = result["runs"]
    columns = [f"{r['side']} {r.get('run', '')} {r.get('repeat', 0)}" for r in runs]
    nodes: list[str] = []
    cells: dict[tuple[str, int], str] = {}
    for index, record in enumerate(runs):
        for stage in record["stages"]:
            if stage["node"] not in nodes:
                nodes.append(stage["node"])
            mark = {"cached": " c", "resolved": " r", "failed": " F"}.get(stage["state"], "")
            cells[(stage["node"], index)] = f"{stage['seconds']:.1f}{mark}"
    width = max(len(n) for n in nodes) + 2 if nodes else 10
    lines = [f"{'stage':<{width}}" + "".join(f"{c:>18}" for c in columns)]
    for node in nodes:
        lines.append(f"{node:<{width}}" + "".join(f"{cells.get((node, i), '-'):>18}" for i in range(len(runs))))
    lines.append("seconds from ML Metadata; c = served from cache, r = resolver")
    return "\n".join(lines)


def standalone(name: str, doc: str, run, table, *, default_rows: int) -> dict:
    """`python -m benchmarks.<name>`: one benchmark without the harness (same result file and table).

    Args:
      name: the benchmark's NAME (prog name and `<name>.json`).
      doc: the module docstring (its first paragraph is the description).
      run: `run(workdir, rows=N, repeats=N) -> result dict`.
      table: `table(result) -> str`, printed at the end.
      default_rows: `--rows` when not given.
    """
    import argparse
    import json
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from benchmarks.repeats import REPEATS
    from benchmarks.run import machine

    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}", description=doc.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=default_rows)
    parser.add_argument("--repeat", type=int, default=REPEATS, help="runs per side (default: %(default)s)")
    parser.add_argument("--note", help="said in the tables' header, e.g. 'machine shared with other work'")
    parser.add_argument("--workdir", type=Path, help="keep data, roots and logs here (default: a temp dir, removed)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"tfxgate-bench-{name}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    result = run(workdir, rows=args.rows, repeats=args.repeat)
    result["machine"] = machine(load_before=load_before, note=args.note)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    return result
