"""Benchmark: statistics + anomalies + drift, tfxgate's Arrow path vs TFDV's Beam path, same CSV.

    .venv/bin/python -m benchmarks.drift_statistics --rows 1000000

Both sides get two spans (the same resized taxi CSV read twice, so the work is
that of two spans) and produce TFDV-format statistics for each, the anomalies
of the second against the curated schema, and the drift of the second vs the
first:

- ours: pyarrow CSV read + `components/validate/statistics.py` + `tfdv.validate_statistics`
  (anomalies) + `components/drift/check.py` (all five measures, every feature);
- stock: `tfdv.generate_statistics_from_csv` (the Beam pipeline StatisticsGen
  runs) + `tfdv.validate_statistics` with TFDV's drift comparators (L-infinity /
  JSD) on every feature.

Imports are done before timing on both sides. Stock here is TFDV called
directly, a lower bound of StatisticsGen + ExampleValidator inside a pipeline
(no ExampleGen, no MLMD, no artifact I/O), so the ratio is conservative.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()

    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import schema_pb2

    from benchmarks.data import taxi_data
    from tfxgate.artifacts.schema import read_schema
    from tfxgate.components.drift.check import compare_tables
    from tfxgate.components.drift.tables import from_arrow
    from tfxgate.components.validate.statistics import read_csv_table, statistics_from_arrow

    schema = read_schema(REPO / "schemas/taxi/schema.pbtxt")
    with tempfile.TemporaryDirectory() as work:
        csv_path = str(taxi_data(Path(work), rows=args.rows))

        start = time.perf_counter()
        tables = [read_csv_table(csv_path) for _ in range(2)]
        stats = [statistics_from_arrow(t) for t in tables]
        tfdv.validate_statistics(stats[1], schema)
        (base, categorical), (current, _) = from_arrow(tables[0]), from_arrow(tables[1])
        report = compare_tables(base, current, categorical=categorical)
        ours = time.perf_counter() - start

        stock_schema = type(schema)()
        stock_schema.CopyFrom(schema)
        for feature in stock_schema.feature:
            if feature.type == schema_pb2.BYTES:
                feature.drift_comparator.infinity_norm.threshold = 0.1
            else:
                feature.drift_comparator.jensen_shannon_divergence.threshold = 0.1
        start = time.perf_counter()
        stock_stats = [tfdv.generate_statistics_from_csv(csv_path) for _ in range(2)]
        tfdv.validate_statistics(stock_stats[1], stock_schema, previous_statistics=stock_stats[0])
        stock = time.perf_counter() - start

    print(f"rows per span: {args.rows:,}  features: {len(report.features)}")
    print(f"ours  (Arrow statistics + TFDV anomalies + 5 drift measures): {ours:8.1f} s")
    print(f"stock (TFDV/Beam statistics + TFDV anomalies + L-inf/JSD):    {stock:8.1f} s")
    print(f"ratio stock / ours: {stock / ours:.1f}x")


if __name__ == "__main__":
    main()
