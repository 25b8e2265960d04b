"""Data statistics in TFDV's format (`DatasetFeatureStatisticsList`), computed with Arrow.

StatisticsGen runs a Beam pipeline with sketches; on one machine a columnar pass
over an Arrow table gives the same numbers (exactly, for counts, missing,
min/max/mean/std; quantiles and histograms are exact here, where TFDV's are
within its sketch error), so TFDV's own tools (`validate_statistics`,
`visualize_statistics`, drift comparators) read the result unchanged.

Covers flat columns (one value per row, as CSV and Parquet give) and list
columns (decoded tf.Examples: a present feature may hold zero or more values, as
an empty CSV cell becomes after ExampleGen/Ingest): numeric (INT/FLOAT:
`num_stats` with a 10-bucket STANDARD and a 10-bucket QUANTILES histogram) and
string/bytes (`string_stats` with top values and rank histogram). For list
columns the counts follow TFDV: a row with an empty list is present (not
missing) with 0 values, and value statistics are over the flattened values.
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
        try:
            lengths, values = _lengths_and_values(column)
        except ValueError as err:
            raise ValueError(f"column {column_name!r}: {err}") from None
        if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
            _numeric(lengths, values, feature, num_rows=table.num_rows)
        elif _is_text(values.type):
            _string(lengths, values, feature, num_rows=table.num_rows)
        else:
            raise ValueError(f"column {column_name!r}: type {column.type} is not numeric or string")
    return result


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _lengths_and_values(column: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Values per present row (a flat column: 1) and the present values, flattened and non-null."""
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        lengths = pc.list_value_length(column).drop_null().to_numpy(zero_copy_only=False)
        values = pc.list_flatten(column).drop_null()
    else:
        values = column.drop_null()
        lengths = np.ones(len(values), dtype=np.int64)
    if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type) or pa.types.is_null(values.type):
        try:  # tf.Example bytes features: text, as TFDV shows them
            values = values.cast(pa.large_string() if pa.types.is_large_binary(values.type) else pa.string())
        except pa.ArrowInvalid:
            raise ValueError(f"bytes that are not UTF-8 text ({values.type})") from None
    return lengths, values


def _common(lengths: np.ndarray, num_rows: int, common: statistics_pb2.CommonStatistics) -> int:
    """Presence and values-per-row counts; returns how many values there are."""
    present = int(lengths.size)
    common.num_non_missing = present
    common.num_missing = num_rows - present
    if present:
        total = int(lengths.sum())
        common.min_num_values, common.max_num_values = int(lengths.min()), int(lengths.max())
        common.avg_num_values = total / present
        common.tot_num_values = total
        hist = common.num_values_histogram
        hist.type = statistics_pb2.Histogram.QUANTILES
        edges = np.quantile(lengths, np.linspace(0, 1, NUM_BUCKETS + 1), method="inverted_cdf")
        share = present / NUM_BUCKETS
        for i in range(NUM_BUCKETS):
            hist.buckets.add(low_value=float(edges[i]), high_value=float(edges[i + 1]), sample_count=share)
        return total
    return 0


def _numeric(lengths: np.ndarray, column: pa.Array, feature, *, num_rows: int) -> None:
    integer = pa.types.is_integer(column.type)
    feature.type = statistics_pb2.FeatureNameStatistics.INT if integer else statistics_pb2.FeatureNameStatistics.FLOAT
    stats = feature.num_stats
    if not _common(lengths, num_rows, stats.common_stats):
        return
    values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    nan = np.isnan(values)
    finite = values[~nan]
    if not finite.size:
        return
    stats.mean = float(finite.mean())
    stats.std_dev = float(finite.std())  # population std, as TFDV
    stats.num_zeros = int(np.count_nonzero(finite == 0))
    stats.min, stats.max = float(finite.min()), float(finite.max())
    finite.sort()  # once, for the median and every quantile below
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


def _string(lengths: np.ndarray, present: pa.Array, feature, *, num_rows: int) -> None:
    feature.type = statistics_pb2.FeatureNameStatistics.STRING
    stats = feature.string_stats
    if not _common(lengths, num_rows, stats.common_stats):
        return
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
