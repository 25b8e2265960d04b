"""Data statistics in TFDV's format (`DatasetFeatureStatisticsList`), computed with Arrow.

StatisticsGen runs a Beam pipeline with sketches; on one machine a columnar pass
over an Arrow table gives the same numbers (exactly, for counts, missing,
min/max/mean/std; quantiles and histograms are exact here, where TFDV's are
within its sketch error), so TFDV's own tools (`validate_statistics`,
`visualize_statistics`, drift comparators) read the result unchanged.

Covers flat columns (one value per row, as CSV and Parquet give): numeric
(INT/FLOAT: `num_stats` with a 10-bucket STANDARD and a 10-bucket QUANTILES
histogram) and string (`string_stats` with top values and rank histogram).
Only pyarrow, numpy and tensorflow_metadata: no TFX, no Beam.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tensorflow_metadata.proto.v0 import statistics_pb2

NUM_BUCKETS = 10  # TFDV's default for both numeric histograms
NUM_TOP_VALUES = 20  # TFDV's default
NUM_RANK_BUCKETS = 1000  # TFDV's default


def read_csv_table(path: str) -> pa.Table:
    """A CSV as Arrow, reading empty fields as missing (for strings too, as TFDV and ExampleGen do)."""
    from pyarrow import csv as pa_csv

    return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True))


def statistics_from_arrow(table: pa.Table, *, name: str = "") -> statistics_pb2.DatasetFeatureStatisticsList:
    """Statistics of every column of `table`, as one TFDV dataset.

    >>> stats = statistics_from_arrow(pa.table({"x": [1, 2, None]}))
    >>> stats.datasets[0].features[0].num_stats.common_stats.num_missing
    1
    """
    result = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = result.datasets.add(name=name, num_examples=table.num_rows)
    for column_name, column in zip(table.schema.names, table.columns, strict=True):
        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        feature = dataset.features.add()
        feature.path.step.append(column_name)
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            _numeric(column, feature)
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            _string(column, feature)
        else:
            raise ValueError(f"column {column_name!r}: type {column.type} is not numeric or string")
    return result


def _common(column: pa.Array, common: statistics_pb2.CommonStatistics) -> int:
    present = len(column) - column.null_count
    common.num_non_missing = present
    common.num_missing = column.null_count
    if present:
        common.min_num_values = common.max_num_values = 1
        common.avg_num_values = 1.0
        common.tot_num_values = present
    return present


def _numeric(column: pa.Array, feature) -> None:
    integer = pa.types.is_integer(column.type)
    feature.type = statistics_pb2.FeatureNameStatistics.INT if integer else statistics_pb2.FeatureNameStatistics.FLOAT
    stats = feature.num_stats
    if not _common(column, stats.common_stats):
        return
    values = column.drop_null().cast(pa.float64()).to_numpy(zero_copy_only=False)
    nan = np.isnan(values)
    finite = values[~nan]
    stats.mean = float(finite.mean())
    stats.std_dev = float(finite.std())  # population std, as TFDV
    stats.num_zeros = int(np.count_nonzero(finite == 0))
    stats.min, stats.max = float(finite.min()), float(finite.max())
    stats.median = float(np.quantile(finite, 0.5, method="inverted_cdf"))
    _standard_histogram(finite, int(nan.sum()), stats.histograms.add())
    _quantiles_histogram(finite, stats.histograms.add())


def _standard_histogram(values: np.ndarray, num_nan: int, hist) -> None:
    hist.type = statistics_pb2.Histogram.STANDARD
    hist.num_nan = num_nan
    low, high = float(values.min()), float(values.max())
    if low == high:
        hist.buckets.add(low_value=low, high_value=high, sample_count=float(values.size))
        return
    counts, edges = np.histogram(values, bins=NUM_BUCKETS, range=(low, high))
    for i, count in enumerate(counts):
        hist.buckets.add(low_value=float(edges[i]), high_value=float(edges[i + 1]), sample_count=float(count))


def _quantiles_histogram(values: np.ndarray, hist) -> None:
    hist.type = statistics_pb2.Histogram.QUANTILES
    edges = np.quantile(values, np.linspace(0, 1, NUM_BUCKETS + 1), method="inverted_cdf")
    share = values.size / NUM_BUCKETS
    for i in range(NUM_BUCKETS):
        hist.buckets.add(low_value=float(edges[i]), high_value=float(edges[i + 1]), sample_count=share)


def _string(column: pa.Array, feature) -> None:
    feature.type = statistics_pb2.FeatureNameStatistics.STRING
    stats = feature.string_stats
    if not _common(column, stats.common_stats):
        return
    present = column.drop_null()
    counts = pc.value_counts(present)
    labels = counts.field("values").to_pylist()
    freq = counts.field("counts").to_numpy()
    # Most frequent first; ties by value, so the order is deterministic.
    order = sorted(range(len(labels)), key=lambda i: (-freq[i], labels[i]))
    stats.unique = len(labels)
    stats.avg_length = float(pc.mean(pc.utf8_length(present)).as_py())
    for i in order[:NUM_TOP_VALUES]:
        stats.top_values.add(value=labels[i], frequency=float(freq[i]))
    for rank, i in enumerate(order[:NUM_RANK_BUCKETS]):
        stats.rank_histogram.buckets.add(low_rank=rank, high_rank=rank, label=labels[i], sample_count=float(freq[i]))
