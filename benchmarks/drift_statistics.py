"""Benchmark: statistics + anomalies + drift, tfxgate's Arrow path vs TFDV's Beam path, same CSV.

    .venv/bin/python -m benchmarks.drift_statistics --rows 1000000 [--repeat 3]

Both sides get two spans (the same resized taxi CSV read twice, so the work is
that of two spans) and produce TFDV-format statistics for each, the anomalies
of the second against the curated schema, and the drift of the second vs the
first:

- ours: pyarrow CSV read + `components/validate/statistics.py` + `tfdv.validate_statistics`
  (anomalies) + `tfxgate/drift/check.py` (all five measures, every feature);
- stock: `tfdv.generate_statistics_from_csv` (the Beam pipeline StatisticsGen
  runs) + `tfdv.validate_statistics` with TFDV's drift comparators (L-infinity /
  JSD) on every feature.

Imports are done before timing on both sides; each side runs `--repeat` times,
alternating, and the median, min and max and the ratio of the medians are printed. Stock here is TFDV called
directly, a lower bound of StatisticsGen + ExampleValidator inside a pipeline
(no ExampleGen, no MLMD, no artifact I/O), so the ratio is conservative.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.repeats import REPEATS, comparison

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=REPEATS, help="runs per side (default: %(default)s)")
    args = parser.parse_args()

    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import schema_pb2

    from benchmarks.data import taxi_data
    from tfxgate.artifacts.schema import read_schema
    from tfxgate.components.validate.statistics import read_csv_table, statistics_from_arrow
    from tfxgate.drift.check import compare_tables
    from tfxgate.drift.tables import from_arrow

    schema = read_schema(REPO / "schemas/taxi/schema.pbtxt")
    with tempfile.TemporaryDirectory() as work:
        csv_path = str(taxi_data(Path(work), rows=args.rows))

        def ours_once():
            tables = [read_csv_table(csv_path) for _ in range(2)]
            stats = [statistics_from_arrow(t) for t in tables]
            tfdv.validate_statistics(stats[1], schema)
            (base, categorical), (current, _) = from_arrow(tables[0]), from_arrow(tables[1])
            return compare_tables(base, current, categorical=categorical)

        stock_schema = type(schema)()
        stock_schema.CopyFrom(schema)
        for feature in stock_schema.feature:
            if feature.type == schema_pb2.BYTES:
                feature.drift_comparator.infinity_norm.threshold = 0.1
            else:
                feature.drift_comparator.jensen_shannon_divergence.threshold = 0.1

        def stock_once():
            stock_stats = [tfdv.generate_statistics_from_csv(csv_path) for _ in range(2)]
            tfdv.validate_statistics(stock_stats[1], stock_schema, previous_statistics=stock_stats[0])

        ours, stock = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            report = ours_once()
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            stock_once()
            stock.append(time.perf_counter() - start)

    row = comparison("statistics + anomalies + drift, s", ours=ours, stock=stock)
    print(f"rows per span: {args.rows:,}  features: {len(report.features)}")
    for side, what in (
        ("ours", "Arrow statistics + TFDV anomalies + 5 drift measures"),
        ("stock", "TFDV/Beam statistics + TFDV anomalies + L-inf/JSD"),
    ):
        values = row[side]
        print(f"{side:<5} ({what}): median {values['median']:.1f} s (min {values['min']:.1f}, max {values['max']:.1f})")
    print(f"ratio stock / ours (medians): {row['ratio']:.1f}x")


if __name__ == "__main__":
    main()
