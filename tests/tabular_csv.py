"""Seeded CSVs of each label kind, for `tfxgate init --csv` and the tabular trainer's tests.

Each has numeric columns (one with `NA` cells), a low-cardinality text column to
slice on, and a label the features predict well, so a few dozen training steps
learn it:

- `penguins`: `species`, a text label with 3 classes (adelie, chinstrap, gentoo);
- `churn`: `churned`, a text label with 2 values (no, yes);
- `prices`: `price`, a number (regression).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SPECIES = ("adelie", "chinstrap", "gentoo")


def _write(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _maybe_missing(rng, text: str, rate: float = 0.03) -> str:
    return "NA" if rng.random() < rate else text


def penguins(path: Path, *, rows: int = 300, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    species = rng.integers(0, 3, rows)
    island = np.where(species == 2, "biscoe", np.where(rng.random(rows) < 0.5, "dream", "torgersen"))
    bill = 40 + 5 * species + rng.normal(0, 1.5, rows)
    flipper = 190 + 10 * (species == 2) + rng.normal(0, 4, rows)
    mass = 3700 + 800 * (species == 2) + rng.normal(0, 300, rows)
    table = [
        [_maybe_missing(rng, f"{bill[i]:.1f}"), f"{flipper[i]:.0f}", int(mass[i]), island[i], SPECIES[species[i]]]
        for i in range(rows)
    ]
    return _write(path, ["bill_length", "flipper", "body_mass", "island", "species"], table)


def churn(path: Path, *, rows: int = 300, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "plus", "pro"], rows)
    tenure = rng.integers(1, 60, rows)
    calls = rng.poisson(2, rows)
    risk = -0.08 * tenure + 0.9 * calls + np.where(plan == "basic", 1.0, 0.0) + rng.normal(0, 0.5, rows)
    label = np.where(risk > np.median(risk), "yes", "no")
    table = [[plan[i], tenure[i], _maybe_missing(rng, str(calls[i])), label[i]] for i in range(rows)]
    return _write(path, ["plan", "tenure_months", "support_calls", "churned"], table)


def prices(path: Path, *, rows: int = 300, seed: int = 2) -> Path:
    rng = np.random.default_rng(seed)
    area = rng.uniform(30, 200, rows)
    rooms = rng.integers(1, 6, rows)
    city = rng.choice(["north", "south"], rows)
    price = 1000 * area + 5000 * rooms + np.where(city == "north", 30000, 0) + rng.normal(0, 5000, rows)
    table = [[_maybe_missing(rng, f"{area[i]:.1f}"), rooms[i], city[i], f"{price[i]:.2f}"] for i in range(rows)]
    return _write(path, ["area_m2", "rooms", "city", "price"], table)
