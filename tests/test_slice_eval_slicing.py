"""The fast engine's slices: group-bys on Arrow list columns, as TFMA slices (no TF, no Beam)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tfxgate.components.slice_eval.settings import Buckets, EvaluationStage
from tfxgate.components.slice_eval.slicing import add_bucket_columns, slices


def _batch() -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [
            pa.array([[b"Cash"], [b"Card"], None, [b"Cash"], [b"Card"]], type=pa.list_(pa.binary())),
            pa.array([[3], [7], [13], [], [23]], type=pa.list_(pa.int64())),
        ],
        ["payment_type", "hour"],
    )


def test_slices_are_tfma_slice_keys_with_their_rows():
    stage = EvaluationStage(
        slices=[[], ["payment_type"], {"feature": "hour", "buckets": [0, 6, 12]}, ["payment_type", "hour_bucket"]]
    )
    data = add_bucket_columns(_batch(), [s for s in stage.slices if isinstance(s, Buckets)])
    found = {key: rows.tolist() for key, rows in slices(data, stage)}
    assert found == {
        (): [0, 1, 2, 3, 4],
        (("payment_type", b"Cash"),): [0, 3],
        (("payment_type", b"Card"),): [1, 4],
        (("hour_bucket", b"[0,6)"),): [0],
        (("hour_bucket", b"[6,12)"),): [1],
        (("hour_bucket", b">=12"),): [2, 4],  # row 3 has no hour: in no hour slice
        (("hour_bucket", b"[0,6)"), ("payment_type", b"Cash")): [0],  # sorted by column, as TFMA does
        (("hour_bucket", b"[6,12)"), ("payment_type", b"Card")): [1],
        (("hour_bucket", b">=12"), ("payment_type", b"Card")): [4],
    }


def test_bucket_labels_match_the_configs_labels():
    spec = Buckets(feature="hour", buckets=[0, 6, 12])
    values = [-1.0, 0.0, 5.9, 6.0, 11.99, 12.0, 40.0]
    batch = pa.RecordBatch.from_arrays([pa.array([[v] for v in values])], ["hour"])
    column = add_bucket_columns(batch, [spec]).column(1).to_pylist()
    assert column == [[spec.label(v).encode()] for v in values]


def test_a_multi_valued_slice_feature_is_refused_with_its_name_and_row():
    batch = pa.RecordBatch.from_arrays([pa.array([[b"a"], [b"a", b"b"]])], ["tags"])
    with pytest.raises(ValueError, match=r"slice feature 'tags' has 2 values in row 1.*engine: beam"):
        list(slices(batch, EvaluationStage(slices=[["tags"]])))


def test_a_slice_on_a_missing_feature_names_it():
    with pytest.raises(ValueError, match="slice feature 'company' is not in the evaluation data"):
        list(slices(_batch(), EvaluationStage(slices=[["company"]])))
    assert np.array_equal(next(iter(slices(_batch(), EvaluationStage())))[1], np.arange(5))
