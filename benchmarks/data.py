"""Input data for benchmarks: the taxi sample that ships with TFX, or a resized copy.

Both sides of a benchmark must read the very same file, so a resized CSV is
written once into the benchmark's work directory and handed to both. Rows are
sampled with a fixed seed (without replacement up to the sample's size, whole
copies plus a sample beyond it), so a run with `--rows N` is repeatable.
"""

from __future__ import annotations

import csv
import importlib.util
import random
from pathlib import Path
from typing import Optional

TAXI_SAMPLE = "examples/chicago_taxi_pipeline/data/simple/data.csv"
SEED = 20261125


def taxi_csv() -> Path:
    """The 15k-row Chicago taxi CSV inside the installed `tfx` package."""
    spec = importlib.util.find_spec("tfx")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("tfx is not installed in this interpreter")
    return Path(list(spec.submodule_search_locations)[0]) / TAXI_SAMPLE


def taxi_data(workdir: Path, *, rows: Optional[int]) -> Path:
    """The CSV both sides read: the sample itself, or `rows` rows sampled from it.

    The resized file is alone in its own folder because stock CsvExampleGen
    reads every file under its `input_base`.
    """
    source = taxi_csv()
    if rows is None:
        return source
    with source.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        records = list(reader)
    rng = random.Random(SEED)
    copies, remainder = divmod(rows, len(records))
    chosen = records * copies + rng.sample(records, remainder)
    target = workdir / "data" / "data.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(chosen)
    return target


def count_rows(path: Path) -> int:
    """Data rows in a CSV (the header excluded)."""
    with path.open(newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1
