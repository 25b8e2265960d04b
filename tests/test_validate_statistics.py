"""Our Arrow statistics vs TFDV's on the taxi data: exact where TFDV is exact, within sketch error elsewhere."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tests.conftest import taxi_csv
from tfxgate.components.validate.statistics import read_csv_table, statistics_from_arrow

# TFDV's KLL quantile sketch: rank error well under 1% at its default size.
RANK_ERROR = 0.01


def by_name(stats):
    return {f.path.step[0]: f for f in stats.datasets[0].features}


def test_small_table_has_tfdv_fields():
    stats = statistics_from_arrow(pa.table({"x": [1, 2, None, 0], "s": ["a", "b", "a", None]}), name="t")
    features = by_name(stats)
    x = features["x"].num_stats
    assert stats.datasets[0].num_examples == 4
    assert (x.common_stats.num_non_missing, x.common_stats.num_missing) == (3, 1)
    assert (x.min, x.max, x.mean, x.num_zeros) == (0, 2, 1, 1)
    assert x.std_dev == pytest.approx(np.std([1, 2, 0]))
    s = features["s"].string_stats
    assert [(v.value, v.frequency) for v in s.top_values] == [("a", 2), ("b", 1)]
    assert s.unique == 2 and s.rank_histogram.buckets[0].label == "a"
    with pytest.raises(ValueError, match="column 'b': type bool"):
        statistics_from_arrow(pa.table({"b": [True]}))


@pytest.fixture(scope="module")
def taxi_pair():
    import tensorflow_data_validation as tfdv

    path = str(taxi_csv())
    table = read_csv_table(path)
    return table, by_name(statistics_from_arrow(table)), by_name(tfdv.generate_statistics_from_csv(path))


def test_counts_missing_and_moments_equal_tfdv(taxi_pair):
    _, ours, theirs = taxi_pair
    assert set(ours) == set(theirs)
    for name, feature in theirs.items():
        mine = ours[name]
        if feature.HasField("num_stats"):
            a, b = mine.num_stats, feature.num_stats
            assert a.common_stats.num_non_missing == b.common_stats.num_non_missing, name
            assert a.common_stats.num_missing == b.common_stats.num_missing, name
            assert a.num_zeros == b.num_zeros, name
            # TFDV reads CSV floats as float32: equal up to that rounding.
            for field in ("min", "max", "mean", "std_dev"):
                assert getattr(a, field) == pytest.approx(getattr(b, field), rel=1e-6, abs=1e-6), (name, field)
        else:
            a, b = mine.string_stats, feature.string_stats
            assert a.common_stats.num_non_missing == b.common_stats.num_non_missing, name
            assert a.common_stats.num_missing == b.common_stats.num_missing, name
            assert a.unique == b.unique, name
            assert a.avg_length == pytest.approx(b.avg_length, rel=1e-6), name
            assert {(v.value, v.frequency) for v in a.top_values[:5]} == {
                (v.value, v.frequency) for v in b.top_values[:5]
            }, name


def _histogram(feature, kind):
    from tensorflow_metadata.proto.v0 import statistics_pb2

    kind = getattr(statistics_pb2.Histogram, kind)
    return next(h for h in feature.num_stats.histograms if h.type == kind)


def test_quantiles_and_histograms_agree_within_sketch_error(taxi_pair):
    table, ours, theirs = taxi_pair
    compared = []
    for name, feature in theirs.items():
        if not feature.HasField("num_stats") or feature.num_stats.common_stats.num_non_missing == 0:
            continue
        values = np.sort(table[name].drop_null().cast(pa.float64()).to_numpy())
        n = values.size
        # Each TFDV quantile boundary sits at (about) its rank in the real data.
        for i, bucket in enumerate(_histogram(feature, "QUANTILES").buckets[1:], start=1):
            # TFDV holds CSV floats as float32: widen the boundary by that rounding.
            low = np.searchsorted(values, bucket.low_value - 1e-6 * abs(bucket.low_value), side="left") / n
            high = np.searchsorted(values, bucket.low_value + 1e-6 * abs(bucket.low_value), side="right") / n
            q = i / len(_histogram(feature, "QUANTILES").buckets)
            assert low - RANK_ERROR <= q <= high + RANK_ERROR, (name, i, bucket.low_value)
        # Standard histograms of FLOAT features: same share per bucket within the sketch's
        # error. (For INT features TFDV's sketch spreads each integer's mass over the
        # buckets around it, so bucket shares differ by design; the quantiles above hold.)
        theirs_std = _histogram(feature, "STANDARD").buckets
        mine_std = _histogram(ours[name], "STANDARD").buckets
        if feature.type == feature.FLOAT and len(theirs_std) == len(mine_std) == 10:
            compared.append(name)
            total_t = sum(b.sample_count for b in theirs_std)
            total_m = sum(b.sample_count for b in mine_std)
            for t, m in zip(theirs_std, mine_std, strict=True):
                assert m.low_value == pytest.approx(t.low_value, rel=1e-6, abs=1e-6), name
                assert m.sample_count / total_m == pytest.approx(t.sample_count / total_t, abs=2 * RANK_ERROR), name
    assert {"fare", "tips", "trip_miles", "pickup_latitude"} <= set(compared)


def as_example_lists(table: pa.Table) -> pa.RecordBatch:
    """The taxi columns as decoded tf.Examples hold them: [v] per value, [] per empty cell, floats as float32."""
    columns = []
    for column in table.columns:
        column = column.combine_chunks()
        valid = column.is_valid().to_numpy(zero_copy_only=False)
        offsets = np.concatenate([[0], np.cumsum(valid)]).astype(np.int32)
        values = column.drop_null()
        if pa.types.is_floating(values.type):
            values = values.cast(pa.float32())
        elif pa.types.is_string(values.type):
            values = values.cast(pa.binary())
        columns.append(pa.ListArray.from_arrays(pa.array(offsets), values))
    return pa.RecordBatch.from_arrays(columns, table.schema.names)


def test_example_lists_agree_with_tfdv_on_presence_and_value_counts(taxi_pair):
    """As StatisticsGen sees Ingest's output: an empty list is present with 0 values, not missing."""
    from tensorflow_data_validation import StatsOptions
    from tensorflow_data_validation.statistics import stats_impl

    batch = as_example_lists(taxi_pair[0])
    ours = by_name(statistics_from_arrow(batch))
    theirs = by_name(stats_impl.generate_statistics_in_memory(batch, StatsOptions()))
    assert set(ours) == set(theirs)
    fields = ("num_non_missing", "num_missing", "min_num_values", "max_num_values", "tot_num_values")
    for name, feature in theirs.items():
        kind = "num_stats" if feature.HasField("num_stats") else "string_stats"
        a, b = getattr(ours[name], kind), getattr(feature, kind)
        assert ours[name].type == feature.type, name
        for field in fields:
            assert getattr(a.common_stats, field) == getattr(b.common_stats, field), (name, field)
        assert a.common_stats.avg_num_values == pytest.approx(b.common_stats.avg_num_values), name
        if kind == "num_stats":
            for field in ("min", "max", "mean", "std_dev", "num_zeros"):
                assert getattr(a, field) == pytest.approx(getattr(b, field), rel=1e-6, abs=1e-6), (name, field)
        else:
            assert a.unique == b.unique and a.top_values[0].value == b.top_values[0].value, name
    # The taxi data has empty cells: they are present with 0 values, as in TFDV.
    assert ours["dropoff_latitude"].num_stats.common_stats.min_num_values == 0


def test_ingests_arrow_copy_gives_the_statistics_of_its_tf_examples(tmp_path):
    """Validate reads Ingest's Arrow copy of a split; decoding the TFRecords gives the same statistics."""
    from tfxgate.artifacts.examples import read_split
    from tfxgate.components.ingest import examples as example_files

    columns = {
        "fare": pa.array([1.5, None, 3.0, 0.0]),
        "trips": pa.array([1, 2, None, 4]),
        "company": pa.array(["a", None, "b", "a"]),
    }
    kinds = {"fare": "FLOAT", "trips": "INT", "company": "BYTES"}
    batch = example_files.feature_lists(columns, kinds, length=4)
    example_files.write_split(str(tmp_path / "Split-train"), example_files.serialize_batch(batch))
    decoded = statistics_from_arrow(read_split(str(tmp_path), "train"))
    example_files.write_arrow_copy(str(tmp_path), "train", batch)
    assert (tmp_path / "arrow" / "Split-train.arrow").is_file()
    from_copy = statistics_from_arrow(read_split(str(tmp_path), "train"))
    assert by_name(from_copy) == by_name(decoded)  # the decoder orders features by name; nothing else differs
    assert by_name(decoded)["fare"].num_stats.common_stats.min_num_values == 0  # the empty cell: present, 0 values


def test_validate_writes_its_outputs_under_a_gs_pipeline_root(gcs_server, tmp_path, monkeypatch):
    """On Kubeflow the output artifacts are `gs://` URIs: statistics, anomalies and the kept summary land there."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

    from tfxgate.components.ingest import examples as example_files
    from tfxgate.components.validate import executor
    from tfxgate.components.validate.anomalies import AnomaliesFailed, Finding
    from tfxgate.storage import filesystem

    monkeypatch.chdir(tmp_path)  # a local write of a gs:// path would land in ./gs:/...
    batch = example_files.feature_lists({"fare": pa.array([1.5, 2.0])}, {"fare": "FLOAT"}, length=2)
    example_files.write_split(str(tmp_path / "Split-train"), example_files.serialize_batch(batch))
    example_files.write_arrow_copy(str(tmp_path), "train", batch)
    root = f"{gcs_server.new_bucket('validate')}/root/Validate"

    found = executor.compute_statistics(str(tmp_path), ["train"], statistics_uri=f"{root}/statistics/7")
    written = filesystem.read_bytes(f"{root}/statistics/7/Split-train/FeatureStats.pb")
    assert statistics_pb2.DatasetFeatureStatisticsList.FromString(written) == found["train"]
    schema = tfdv.infer_schema(found["train"])
    executor.check_anomalies(found, schema, settings=executor.Settings(), anomalies_uri=f"{root}/anomalies/7")
    anomalies = filesystem.read_bytes(f"{root}/anomalies/7/Split-train/SchemaDiff.pb")
    assert anomalies_pb2.Anomalies.FromString(anomalies).anomaly_info == {}
    failing = Finding(feature="fare", kind="LOW_VALUE", detail="too low", action="fail", split="train")
    with pytest.raises(AnomaliesFailed):
        executor.apply_policy([failing], anomalies_uri=f"{root}/anomalies/7")
    assert '"feature": "fare"' in filesystem.read_text(f"{root}/blocked/7/anomaly_summary.json")
    assert not (tmp_path / "gs:").exists()
