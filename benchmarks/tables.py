"""Regenerates the results tables of benchmarks/README.md from the JSON results.

    python benchmarks/tables.py                     # benchmarks/results/*.json -> README, between the markers
    python benchmarks/tables.py --print             # print the tables instead of writing the README
    python benchmarks/tables.py --results DIR --readme FILE

Every result with `comparisons` (see repeats.py) becomes one table: per
measured quantity, each side's median with its min-max over the repeats, and
the ratio of the medians. The header line says which machine, which day, how
many rows and repeats, and the load average around the run, so a reader can
tell a quiet machine from a shared one. Everything between `BEGIN` and `END`
in the README is replaced; nothing else is touched.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

HERE = Path(__file__).resolve().parent
BEGIN = "<!-- tables.py: generated from benchmarks/results/*.json, do not edit by hand -->"
END = "<!-- end of tables.py output -->"
# Tables in this order; any other result follows, by name.
ORDER = (
    "startup",
    "taxi_pipeline",
    "taxi_pipeline_200k",
    "trainer_overhead",
    "validate_drift_1m",
    "ingest_1m",
    "slice_eval",
    "beam_workers",
)


def render(result: dict) -> str:
    """One benchmark's markdown: a header line, then one row per comparison."""
    lines = [f"### `{result['benchmark']}`", "", _header(result), ""]
    rows = result.get("comparisons", [])
    if not rows:
        return "\n".join([*lines, "(no comparisons in this result)"])
    lines += [
        "| measure | ours: median (min–max) | stock: median (min–max) | stock / ours (medians) |",
        "|---|---|---|---|",
    ]
    for row in rows:
        unit = f" {row['unit']}" if row.get("unit") else ""
        ours = f"{row['ours_label']}: {_spread(row['ours'])}{unit}"
        stock = f"{row['stock_label']}: {_spread(row['stock'])}{unit}"
        ratio = "n/a" if row.get("ratio") is None else f"**{row['ratio']:.2f}×**"
        lines.append(f"| {row['label']} | {ours} | {stock} | {ratio} |")
    notes = [row["note"] for row in rows if row.get("note")] + list(result.get("notes", []))
    if notes:
        lines += [""] + [f"- {note}" for note in notes]
    return "\n".join(lines)


def _header(result: dict) -> str:
    machine = result.get("machine", {})
    parts = [f"measured {machine.get('date', '?')}"]
    if machine.get("cpus"):
        parts.append(f"{machine['cpus']} CPUs")
    if machine.get("python"):
        parts.append(f"Python {machine['python']}")
    load = machine.get("load_average")
    if load:
        parts.append(f"load average {load['before']:.1f} before, {load['after']:.1f} after (1 min)")
    if result.get("rows"):
        parts.append(f"{result['rows']:,} rows")
    if result.get("repeats"):
        parts.append(f"{result['repeats']} repeats per side")
    if machine.get("note"):
        parts.append(machine["note"])
    return ", ".join(parts) + "."


def _spread(values: dict) -> str:
    return f"{values['median']:.2f} ({values['min']:.2f}–{values['max']:.2f})"


def render_all(results: Path) -> str:
    """Every `<name>.json` under `results`, in ORDER, as one markdown block."""
    found = {path.stem: json.loads(path.read_text()) for path in sorted(results.glob("*.json"))}
    names = [n for n in ORDER if n in found] + sorted(n for n in found if n not in ORDER)
    return "\n\n".join(render(found[name]) for name in names)


def replace_block(readme: str, block: str) -> str:
    """`readme` with the text between BEGIN and END replaced by `block`.

    Raises:
      ValueError: the markers are missing or out of order.
    """
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README needs the two marker lines, in this order:\n{BEGIN}\n{END}")
    return readme[: start + len(BEGIN)] + "\n\n" + block + "\n\n" + readme[end:]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/tables.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=HERE / "results", help="folder of <name>.json")
    parser.add_argument("--readme", type=Path, default=HERE / "README.md")
    parser.add_argument("--print", action="store_true", help="print the tables; leave the README alone")
    args = parser.parse_args(argv)
    block = render_all(args.results)
    if args.print:
        print(block)
        return 0
    try:
        text = replace_block(args.readme.read_text(), block)
    except ValueError as err:
        print(f"{args.readme}: {err}", file=sys.stderr)
        return 1
    args.readme.write_text(text)
    print(f"wrote the tables of {len(list(args.results.glob('*.json')))} result(s) into {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
