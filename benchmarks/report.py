"""The tables the harness prints: one line per side and run, then seconds per stage.

Ratios are stock / ours, so a number above 1 means tfxgate was faster. Process
seconds include interpreter start and imports; pipeline seconds are the
runner's own time; stage seconds come from ML Metadata on both sides.
"""

from __future__ import annotations


def summary_table(result: dict) -> str:
    """benchmark | side | run | process s | pipeline s | ratio | stages that executed."""
    runs = result["runs"]
    ours = {r["run"]: r for r in runs if r["side"] == "ours"}
    header = (
        f"{'benchmark':<16}{'side':<7}{'run':<7}{'process s':>10}{'pipeline s':>11}  {'stock/ours':<14}"
        "executed (not from cache)"
    )
    lines = [header, "-" * len(header)]
    for record in runs:
        mine = ours.get(record["run"])
        ratio = ""
        if record["side"] != "ours" and mine:
            ratio = (
                f"{_ratio(record['process_seconds'], mine['process_seconds'])} / "
                f"{_ratio(record['pipeline_seconds'], mine['pipeline_seconds'])}"
            )
        executed = ", ".join(record["executed"]) or "nothing (all cached)"
        lines.append(
            f"{result['benchmark']:<16}{record['side']:<7}{record['run']:<7}"
            f"{record['process_seconds']:>10.1f}{record['pipeline_seconds']:>11.1f}  {ratio:<14}{executed}"
        )
    lines.append("ratio = stock / ours, process / pipeline seconds (> 1: tfxgate faster)")
    pushed = result.get("pushed_versions")
    if pushed:
        lines.append("model versions pushed: " + ", ".join(f"{side} {count}" for side, count in pushed.items()))
    return "\n".join(lines)


def stage_table(result: dict) -> str:
    """Seconds per stage (from ML Metadata) for every side and run; `c` marks a cache hit."""
    runs = result["runs"]
    columns = [f"{r['side']} {r['run']}" for r in runs]
    nodes: list[str] = []
    cells: dict[tuple[str, int], str] = {}
    for index, record in enumerate(runs):
        for stage in record["stages"]:
            if stage["node"] not in nodes:
                nodes.append(stage["node"])
            mark = {"cached": " c", "resolved": " r", "failed": " F"}.get(stage["state"], "")
            cells[(stage["node"], index)] = f"{stage['seconds']:.1f}{mark}"
    width = max(len(n) for n in nodes) + 2 if nodes else 10
    lines = [f"{'stage':<{width}}" + "".join(f"{c:>14}" for c in columns)]
    for node in nodes:
        lines.append(f"{node:<{width}}" + "".join(f"{cells.get((node, i), '-'):>14}" for i in range(len(runs))))
    lines.append("seconds from ML Metadata; c = served from cache, r = resolver")
    return "\n".join(lines)


def _ratio(stock: float, ours: float) -> str:
    return f"{stock / ours:.1f}x" if ours > 0 else "inf"


def standalone(name: str, doc: str, run, table, *, default_rows: int) -> dict:
    """`python -m benchmarks.<name>`: one benchmark without the harness (same result file and table).

    Args:
      name: the benchmark's NAME (prog name and `<name>.json`).
      doc: the module docstring (its first paragraph is the description).
      run: `run(workdir, rows=N) -> result dict`.
      table: `table(result) -> str`, printed at the end.
      default_rows: `--rows` when not given.
    """
    import argparse
    import json
    import shutil
    import tempfile
    from pathlib import Path

    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}", description=doc.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=default_rows)
    parser.add_argument("--workdir", type=Path, help="keep data, roots and logs here (default: a temp dir, removed)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"tfxgate-bench-{name}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    result = run(workdir, rows=args.rows)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    return result
