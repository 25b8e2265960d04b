"""Unit tests for tfxgate/drift/measures.py, and parity with TFDV's own drift comparator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tfxgate.drift import measures as m


def test_linf_is_the_largest_share_difference_and_names_its_value():
    result = m.linf_distance({"a": 50, "b": 30, "c": 20}, {"a": 30, "b": 30, "c": 20, "d": 20})
    assert result.value == pytest.approx(0.2)
    assert result.key in {"a", "d"}
    assert m.linf_distance({"a": 1}, {"a": 7}).value == 0.0


def test_jsd_of_identical_histograms_is_zero_and_of_disjoint_ones_is_one():
    hist = m.Histogram([(0.0, 1.0, 10.0), (1.0, 2.0, 30.0)])
    assert m.jensen_shannon_divergence(hist, hist) == 0.0
    far = m.Histogram([(5.0, 6.0, 10.0)])
    assert m.jensen_shannon_divergence(hist, far) == pytest.approx(1.0)


def test_jsd_rebuckets_assuming_uniform_values_within_a_bucket():
    # [0, 2) holding 2 values equals [0, 1) and [1, 2) holding 1 each: no divergence.
    coarse = m.Histogram([(0.0, 2.0, 2.0)])
    fine = m.Histogram([(0.0, 1.0, 1.0), (1.0, 2.0, 1.0)])
    assert m.jensen_shannon_divergence(coarse, fine) == pytest.approx(0.0)


def test_jsd_counts_nans_point_masses_and_refuses_empty_histograms():
    base = m.Histogram([(0.0, 1.0, 10.0)])
    with_nan = m.Histogram([(0.0, 1.0, 10.0)], num_nan=10.0)
    assert m.jensen_shannon_divergence(base, with_nan) > 0.2
    point = m.Histogram([(3.0, 3.0, 10.0)])
    assert m.jensen_shannon_divergence(point, point) == 0.0
    with pytest.raises(ValueError, match="empty histogram"):
        m.jensen_shannon_divergence(base, m.Histogram([]))


def test_standard_histogram_has_equal_width_buckets_over_the_range():
    hist = m.standard_histogram(np.array([0.0, 1.0, 2.0, 10.0, np.nan]), num_buckets=5)
    assert [b[:2] for b in hist.buckets][0] == (0.0, 2.0)
    assert sum(b[2] for b in hist.buckets) == 4 and hist.num_nan == 1
    assert m.standard_histogram(np.array([4.0, 4.0])).buckets == [(4.0, 4.0, 2.0)]


def test_psi_is_near_zero_for_the_same_distribution_and_large_for_a_shift():
    rng = np.random.default_rng(1)
    base = rng.normal(size=20_000)
    assert m.psi(base, rng.normal(size=20_000)) < 0.01
    assert m.psi(base, rng.normal(1.0, 1.0, size=20_000)) > 0.5
    assert m.categorical_psi({"a": 50, "b": 50}, {"a": 50, "b": 50}) == 0.0
    assert m.categorical_psi({"a": 50, "b": 50}, {"a": 90, "b": 10}) > 0.5


def test_ks_and_wasserstein_match_their_definitions():
    result = m.ks(np.array([0.0, 1.0, 2.0, 3.0]), np.array([10.0, 11.0, 12.0, 13.0]))
    assert result.statistic == 1.0 and result.pvalue < 0.05
    same = m.ks(np.arange(100.0), np.arange(100.0))
    assert same.statistic == 0.0 and same.pvalue == pytest.approx(1.0)
    assert m.wasserstein(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == pytest.approx(2.0)
    # Relative to the baseline's std (0.5 here): 2 / 0.5.
    assert m.relative_wasserstein(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == pytest.approx(4.0)
    assert math.isnan(m.wasserstein(np.array([np.nan]), np.array([1.0])))


def test_missing_rate_delta():
    assert m.missing_rate_delta(5, 100, 30, 100) == pytest.approx(0.25)
    assert m.missing_rate_delta(0, 0, 0, 10) == 0.0


def _histogram(proto) -> m.Histogram:
    return m.Histogram([(b.low_value, b.high_value, b.sample_count) for b in proto.buckets], proto.num_nan)


def test_linf_and_jsd_equal_tfdvs_drift_comparator_on_the_same_statistics():
    """TFDV computes drift on its statistics; ours must give the same numbers from the same protos."""
    import pandas as pd
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import statistics_pb2

    rng = np.random.default_rng(0)
    cases = []
    for shift, scale, mix, nan in [(0.0, 1.0, [0.5, 0.3, 0.2, 0.0], 0), (0.7, 2.0, [0.3, 0.3, 0.2, 0.2], 40)]:
        base = pd.DataFrame({"x": rng.normal(0, 1, 3000), "c": rng.choice(list("abcd"), 3000, p=[0.5, 0.3, 0.2, 0.0])})
        x = rng.normal(shift, scale, 3000)
        x[:nan] = np.nan
        new = pd.DataFrame({"x": x, "c": rng.choice(list("abcd"), 3000, p=mix)})
        cases.append((base, new))
    for base, new in cases:
        stats_base = tfdv.generate_statistics_from_dataframe(base)
        stats_new = tfdv.generate_statistics_from_dataframe(new)
        schema = tfdv.infer_schema(stats_base)
        # A tiny threshold makes TFDV report every measurement it computes.
        tfdv.get_feature(schema, "x").drift_comparator.jensen_shannon_divergence.threshold = 1e-12
        tfdv.get_feature(schema, "c").drift_comparator.infinity_norm.threshold = 1e-12
        anomalies = tfdv.validate_statistics(stats_new, schema, previous_statistics=stats_base)
        theirs = {i.path.step[0]: i.drift_measurements[0].value for i in anomalies.drift_skew_info}

        def feature(stats, name):
            [f] = [f for f in stats.datasets[0].features if f.path.step[0] == name]
            return f

        def standard(stats):
            hists = feature(stats, "x").num_stats.histograms
            return _histogram(next(h for h in hists if h.type == statistics_pb2.Histogram.STANDARD))

        def counts(stats):
            return {b.label: b.sample_count for b in feature(stats, "c").string_stats.rank_histogram.buckets}

        assert m.jensen_shannon_divergence(standard(stats_base), standard(stats_new)) == pytest.approx(
            theirs["x"], abs=1e-12
        )
        assert m.linf_distance(counts(stats_base), counts(stats_new)).value == pytest.approx(theirs["c"], abs=1e-12)
