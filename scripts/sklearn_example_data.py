"""Writes the wine (multi-class) and diabetes (regression) example data as CSV spans.

Both datasets ship inside scikit-learn. Each is shuffled with a fixed seed and
cut into `--spans` files `<out>/<name>/span-<N>.csv` (N = 1, 2, ...); a few
feature cells are written as `NA` to show `data.null_values` at work. Then:

    python scripts/sklearn_example_data.py --out data
    tfxgate run configs/wine.yaml        # data.path: ../data/wine/span-{SPAN}.csv
    tfxgate run configs/diabetes.yaml

The end-to-end tests (tests/test_e2e_label_kinds.py) call `write` directly.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

LABELS = {"wine": "cultivar", "diabetes": "progression"}


def frame(name: str) -> tuple[list[str], np.ndarray]:
    """(column names with the label last, rows) of one dataset; names made tf.Example-safe."""
    from sklearn import datasets

    bunch = datasets.load_wine() if name == "wine" else datasets.load_diabetes(scaled=False)
    names = [n.replace("/", "_") for n in bunch.feature_names] + [LABELS[name]]
    return names, np.column_stack([bunch.data, bunch.target])


def write(name: str, out: Path, *, spans: int = 2, missing: float = 0.02, seed: int = 0) -> list[Path]:
    """Writes `out/<name>/span-<N>.csv` and returns their paths."""
    names, rows = frame(name)
    rng = np.random.default_rng(seed)
    rows = rows[rng.permutation(len(rows))]
    blank = rng.random((len(rows), len(names) - 1)) < missing  # never the label
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for span, part in enumerate(np.array_split(np.arange(len(rows)), spans), start=1):
        path = folder / f"span-{span}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            for i in part:
                cells = [_cell(v) for v in rows[i]]
                writer.writerow(["NA" if j < len(blank[i]) and blank[i][j] else c for j, c in enumerate(cells)])
        paths.append(path)
    return paths


def _cell(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data"))
    parser.add_argument("--spans", type=int, default=2)
    args = parser.parse_args()
    for name in LABELS:
        for path in write(name, args.out, spans=args.spans):
            print(path)


if __name__ == "__main__":
    main()
