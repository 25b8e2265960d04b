"""benchmarks/tables.py: the README's tables come from the JSON results (no benchmark runs here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks import tables
from benchmarks.repeats import comparison, spread
from tests.conftest import REPO

RESULT = {
    "benchmark": "taxi_pipeline",
    "rows": 15002,
    "repeats": 3,
    "machine": {
        "date": "2026-12-03",
        "cpus": 2,
        "python": "3.11.7",
        "load_average": {"before": 4.2, "after": 5.75},
        "note": "shared machine",
    },
    "comparisons": [
        comparison("first run, process s", ours=[30.0, 20.0, 40.0], stock=[90.0, 80.0, 60.0]),
        comparison("rerun, process s", ours=[3.0, 2.0, 1.0], stock=[50.0, 50.0, 50.0], note="rerun / first: 7%"),
    ],
}


def test_spread_and_ratio_are_of_the_medians():
    assert spread([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "values": [3.0, 1.0, 2.0]}
    row = RESULT["comparisons"][0]
    assert (row["ours"]["median"], row["stock"]["median"], row["ratio"]) == (30.0, 80.0, 2.67)
    with pytest.raises(ValueError, match="ran zero times"):
        spread([])


def test_render_writes_one_row_per_comparison_with_median_min_max_and_ratio():
    assert tables.render(RESULT).splitlines() == [
        "### `taxi_pipeline`",
        "",
        "measured 2026-12-03, 2 CPUs, Python 3.11.7, load average 4.2 before, 5.8 after (1 min), "
        "15,002 rows, 3 repeats per side, shared machine.",
        "",
        "| measure | ours: median (min–max) | stock: median (min–max) | stock / ours (medians) |",
        "|---|---|---|---|",
        "| first run, process s | ours: 30.00 (20.00–40.00) s | stock: 80.00 (60.00–90.00) s | **2.67×** |",
        "| rerun, process s | ours: 2.00 (1.00–3.00) s | stock: 50.00 (50.00–50.00) s | **25.00×** |",
        "",
        "- rerun / first: 7%",
    ]


def test_the_command_replaces_only_the_block_between_the_markers(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "taxi_pipeline.json").write_text(json.dumps(RESULT))
    (results / "startup.json").write_text(json.dumps({**RESULT, "benchmark": "startup"}))
    readme = tmp_path / "README.md"
    readme.write_text(f"# Benchmarks\n\nintro\n\n{tables.BEGIN}\nold table\n{tables.END}\n\nafter\n")
    command = [sys.executable, "benchmarks/tables.py", "--results", str(results), "--readme", str(readme)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = readme.read_text()
    assert text.startswith("# Benchmarks\n\nintro\n\n") and text.endswith(f"{tables.END}\n\nafter\n")
    assert "old table" not in text
    assert text.index("### `startup`") < text.index("### `taxi_pipeline`")  # tables.ORDER
    assert "| first run, process s | ours: 30.00 (20.00–40.00) s |" in text


def test_a_readme_without_markers_is_refused_by_name(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    assert tables.main(["--results", str(tmp_path), "--readme", str(readme)]) == 1
    assert readme.read_text() == "# no markers\n"


def test_the_committed_readme_matches_the_committed_results():
    """benchmarks/README.md holds what `python benchmarks/tables.py` renders from benchmarks/results/."""
    readme = (REPO / "benchmarks" / "README.md").read_text()
    block = tables.render_all(REPO / "benchmarks" / "results")
    assert tables.replace_block(readme, block) == readme, "run `python benchmarks/tables.py` and commit the README"
