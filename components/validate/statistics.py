"""Data statistics in TFDV's format (`DatasetFeatureStatisticsList`), computed with Arrow.

StatisticsGen runs a Beam pipeline with sketches; on one machine a columnar pass
over Arrow record batches gives the same numbers (exactly, for counts, missing,
min/max/mean/std; quantiles and histograms are exact here, where TFDV's are
within its sketch error), so TFDV's own tools (`validate_statistics`,
`visualize_statistics`, drift comparators) read the result unchanged. The
split is read one record batch at a time (`statistics_from_batches`) and every
statistic is merged across batches, so memory grows with the distinct values,
not the rows (above `tfxgate.drift.columns.MAX_DISTINCT` distinct values of a
numeric feature its median and quantiles become approximate, as TFDV's are).

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
    return statistics_from_batches([table], name=name)


def statistics_from_batches(batches, *, name: str = "") -> statistics_pb2.DatasetFeatureStatisticsList:
    """`statistics_from_arrow` of the rows of many record batches, holding one batch at a time.

    Every statistic is merged batch by batch (counts, distinct values with their
    counts, merged moments; `tfxgate.drift.columns`), so memory grows with the
    distinct values, not the rows. On one batch the numbers are numpy's own; over
    many, mean and std agree to the last bits, and a numeric feature with more than
    `columns.MAX_DISTINCT` distinct values gets approximate median and quantiles
    (the drift summaries' compression), like TFDV's sketches.
    """
    features: dict[str, _Feature] = {}
    rows = 0
    for batch in batches:
        for column_name, column in zip(batch.schema.names, batch.columns, strict=True):
            column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
            try:
                lengths, values = _lengths_and_values(column)
            except ValueError as err:
                raise ValueError(f"column {column_name!r}: {err}") from None
            feature = features.get(column_name)
            if feature is None:
                feature = features[column_name] = _Feature(column_name)
            feature.add(lengths, values)
        rows += batch.num_rows  # a feature absent from a batch (decoded tf.Examples) is missing in its rows
    result = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = result.datasets.add(name=name, num_examples=rows)
    for feature in features.values():
        feature.write(dataset.features.add(), num_rows=rows)
    return result


class _Feature:
    """One feature's statistics, merged batch by batch."""

    def __init__(self, name: str):
        from tfxgate.drift import columns

        self.name = name
        self.kind = None  # "int", "float" or "string"; None until a batch has typed values
        self.lengths: dict[int, int] = {}
        self.numeric = columns.NumericAccumulator()
        self.nan = self.zeros = 0
        self.strings: dict[str, int] = {}
        self.text_length = 0

    def add(self, lengths: np.ndarray, values: pa.Array) -> None:
        for length, count in zip(*np.unique(lengths, return_counts=True), strict=True):
            self.lengths[int(length)] = self.lengths.get(int(length), 0) + int(count)
        if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
            kind = "int" if pa.types.is_integer(values.type) else "float"
        elif _is_text(values.type):
            kind = "string"
        else:
            raise ValueError(f"column {self.name!r}: type {values.type} is not numeric or string")
        if pa.types.is_string(values.type) and len(values) == 0 and self.kind not in (None, "string"):
            return  # no values in this batch (a null column read as text): nothing of another type
        if self.kind is None or (self.kind == "string" and not self.strings and kind != "string"):
            self.kind = kind
        elif self.kind != kind:
            raise ValueError(f"column {self.name!r}: {kind} values in a later batch, {self.kind} before")
        if kind == "string":
            counts = pc.value_counts(values)
            for label, count in zip(
                counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
            ):
                self.strings[label] = self.strings.get(label, 0) + count
            self.text_length += int(pc.sum(pc.utf8_length(values)).as_py() or 0)
            return
        numbers = values.cast(pa.float64()).to_numpy(zero_copy_only=False)
        self.nan += int(np.count_nonzero(np.isnan(numbers)))
        self.zeros += int(np.count_nonzero(numbers == 0))
        self.numeric.add(numbers)

    def write(self, feature, *, num_rows: int) -> None:
        feature.path.step.append(self.name)
        if self.kind in ("int", "float"):
            integer = self.kind == "int"
            feature.type = (
                statistics_pb2.FeatureNameStatistics.INT if integer else statistics_pb2.FeatureNameStatistics.FLOAT
            )
            self._numeric(feature.num_stats, num_rows=num_rows)
        else:
            feature.type = statistics_pb2.FeatureNameStatistics.STRING
            self._string(feature.string_stats, num_rows=num_rows)

    def _numeric(self, stats, *, num_rows: int) -> None:
        if not _common(self.lengths, num_rows, stats.common_stats):
            return
        column = self.numeric.column(size=0)
        # The non-NaN values, ascending, with their counts (±inf at the ends).
        values = np.concatenate([[-np.inf] * bool(column.neg_inf), column.values, [np.inf] * bool(column.pos_inf)])
        counts = np.concatenate(
            [[column.neg_inf] * bool(column.neg_inf), column.counts, [column.pos_inf] * bool(column.pos_inf)]
        )
        if not values.size:
            return
        if column.neg_inf or column.pos_inf:  # numpy's mean and std of values with infinities
            stats.mean = np.nan if (column.neg_inf and column.pos_inf) else (np.inf if column.pos_inf else -np.inf)
            stats.std_dev = np.nan
        else:
            stats.mean = self.numeric.mean
            stats.std_dev = column.std  # population std, as TFDV
        stats.num_zeros = self.zeros
        stats.min, stats.max = float(values[0]), float(values[-1])
        stats.median = float(quantiles(values, counts, [0.5])[0])
        _standard_histogram(values, counts, self.nan, stats.histograms.add())
        _quantiles_histogram(values, counts, stats.histograms.add())

    def _string(self, stats, *, num_rows: int) -> None:
        if not _common(self.lengths, num_rows, stats.common_stats):
            return
        labels = list(self.strings)
        freq = [self.strings[label] for label in labels]
        # Most frequent first; ties by value, so the order is deterministic.
        order = sorted(range(len(labels)), key=lambda i: (-freq[i], labels[i]))
        stats.unique = len(labels)
        present = sum(freq)
        stats.avg_length = self.text_length / present if present else float("nan")
        for i in order[:NUM_TOP_VALUES]:
            stats.top_values.add(value=labels[i], frequency=float(freq[i]))
        for rank, i in enumerate(order[:NUM_RANK_BUCKETS]):
            stats.rank_histogram.buckets.add(
                low_rank=rank, high_rank=rank, label=labels[i], sample_count=float(freq[i])
            )


def quantiles(values: np.ndarray, counts: np.ndarray, q) -> np.ndarray:
    """numpy's "inverted_cdf" quantiles of the sample holding each of `values` (ascending) `counts` times."""
    from tfxgate.drift.measures import inverted_cdf

    return inverted_cdf(values, counts, np.asarray(q, dtype=float))


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


def _common(lengths: dict[int, int], num_rows: int, common: statistics_pb2.CommonStatistics) -> int:
    """Presence and values-per-row counts (`lengths`: values per row -> rows); returns how many values there are."""
    present = sum(lengths.values())
    common.num_non_missing = present
    common.num_missing = num_rows - present
    if present:
        sizes = np.asarray(sorted(lengths), dtype=np.int64)
        rows = np.asarray([lengths[int(n)] for n in sizes], dtype=np.int64)
        total = int(np.sum(sizes * rows))
        common.min_num_values, common.max_num_values = int(sizes[0]), int(sizes[-1])
        common.avg_num_values = total / present
        common.tot_num_values = total
        hist = common.num_values_histogram
        hist.type = statistics_pb2.Histogram.QUANTILES
        edges = quantiles(sizes, rows, np.linspace(0, 1, NUM_BUCKETS + 1))
        share = present / NUM_BUCKETS
        for i in range(NUM_BUCKETS):
            hist.buckets.add(low_value=float(edges[i]), high_value=float(edges[i + 1]), sample_count=share)
        return total
    return 0


def _standard_histogram(values: np.ndarray, counts: np.ndarray, num_nan: int, hist) -> None:
    """TFDV's STANDARD histogram of the non-NaN values (the drift check's `measures.standard_histogram`)."""
    from tfxgate.drift.measures import standard_histogram

    hist.type = statistics_pb2.Histogram.STANDARD
    hist.num_nan = num_nan
    for low, high, count in standard_histogram(values, counts=counts, num_buckets=NUM_BUCKETS).buckets:
        hist.buckets.add(low_value=low, high_value=high, sample_count=count)


def _quantiles_histogram(values: np.ndarray, counts: np.ndarray, hist) -> None:
    hist.type = statistics_pb2.Histogram.QUANTILES
    edges = quantiles(values, counts, np.linspace(0, 1, NUM_BUCKETS + 1))
    share = int(counts.sum()) / NUM_BUCKETS
    for i in range(NUM_BUCKETS):
        hist.buckets.add(low_value=float(edges[i]), high_value=float(edges[i + 1]), sample_count=share)
