"""Unit tests of the ingestion core (components/ingest): no Beam, no pipeline."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tfxgate.components.ingest import columns as col
from tfxgate.components.ingest.arrow_csv import InputError
from tfxgate.components.ingest.ingestion import ingest
from tfxgate.components.ingest.quarantine import TooManyBadRows, from_jsonl, to_jsonl
from tfxgate.components.ingest.splits import _feature_bytes, key_buckets

SPLITS = {"train": 2, "eval": 1}
RULES = {
    "id": col.ColumnRule(col.INT),
    "fare": col.ColumnRule(col.FLOAT, disallow_nan=True, disallow_inf=True),
    "company": col.ColumnRule(col.BYTES),
}


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def run(data: bytes, **kwargs):
    kwargs.setdefault("rules", RULES)
    return ingest([("in.csv", data)], data_format="csv", splits=SPLITS, **kwargs)


def test_clean_csv_is_typed_by_the_schema_and_empty_cells_are_null():
    result = run(csv_bytes("id,fare,company", "1,2.5,A", "2,,B", "3,4.0,"))
    assert result.kinds == {"id": col.INT, "fare": col.FLOAT, "company": col.BYTES}
    assert result.columns["fare"].type == pa.float32()
    assert result.columns["fare"].to_pylist() == [2.5, None, 4.0]
    assert result.columns["company"].to_pylist() == [b"A", b"B", None]
    assert result.bad_rows == [] and result.rows_read == 3 and result.inferred == []


def test_without_schema_types_are_inferred_like_csvexamplegen():
    result = run(csv_bytes("a,b,c,d", "1,1.5,x,", "2,2,y,"), rules=None)
    assert result.kinds == {"a": col.INT, "b": col.FLOAT, "c": col.BYTES, "d": None}
    assert result.inferred == ["a", "b", "c", "d"]


def test_each_kind_of_bad_row_is_quarantined_with_exact_row_and_raw_line():
    data = csv_bytes(
        "id,fare,company",
        "1,2.5,A",  # line 2: good
        "2,3.5",  # line 3: too few columns
        "x3,1.0,B",  # line 4: id not an integer
        "4,nan,C",  # line 5: NaN forbidden
        "5,inf,D",  # line 6: inf forbidden
        "6,1.0,E,extra",  # line 7: too many columns
        "7,1.0,F",  # line 8: good
    ).replace(b"F\n", b"\xff\n")  # line 8 becomes invalid UTF-8
    # `nan` is a missing-value token by default; with the tokens replaced, it is a NaN the schema forbids.
    result = run(data, max_bad_rows=10, null_values=["NA"])
    got = {(b.row, b.column, b.reason) for b in result.bad_rows}
    assert got == {
        (3, None, "expected 3 columns, found 2"),
        (4, "id", "not an integer"),
        (5, "fare", "NaN, which the schema forbids (float_domain.disallow_nan)"),
        (6, "fare", "infinite, which the schema forbids (float_domain.disallow_inf)"),
        (7, None, "expected 3 columns, found 4"),
        (8, "company", "invalid UTF-8"),
    }
    raw = {b.row: b.raw_line for b in result.bad_rows}
    assert raw[3] == "2,3.5" and raw[4] == "x3,1.0,B" and raw[7] == "6,1.0,E,extra" and raw[8] == "7,1.0,\ufffd"
    assert all(b.file == "in.csv" for b in result.bad_rows)
    assert result.columns["id"].to_pylist() == [1]  # the one good row proceeds
    assert result.rows_read == 7


def test_line_numbers_stay_exact_across_blank_lines_and_multiline_values():
    data = csv_bytes("id,fare,company", "1,1.0,A", "", '2,2.0,"multi', 'line"', "bad,3.0,C")
    result = run(data, max_bad_rows=1)
    [bad] = result.bad_rows
    assert (bad.row, bad.column, bad.raw_line) == (6, "id", "bad,3.0,C")
    assert result.columns["company"].to_pylist() == [b"A", b"multi\nline"]


def test_a_bad_record_with_a_multiline_value_is_quarantined_whole_with_its_first_line():
    data = csv_bytes(
        "id,fare,company",
        "1,1.0,A",  # line 2
        'x2,2.0,"multi',  # lines 3-4: one record, id not an integer
        'line"',
        "3,3.0,C",  # line 5: good
        '4,"two',  # lines 6-7: one record with too few columns
        'lines"',
        "5,oops,D",  # line 8: fare not a number
    )
    result = run(data, max_bad_rows=3)
    bad = {b.row: (b.column, b.raw_line) for b in result.bad_rows}
    assert bad == {
        3: ("id", 'x2,2.0,"multi\nline"'),
        6: (None, '4,"two\nlines"'),
        8: ("fare", "5,oops,D"),
    }
    assert result.columns["id"].to_pylist() == [1, 3]


def test_max_bad_rows_count_fails_and_names_the_first_offending_rows():
    data = csv_bytes("id,fare,company", "a,1,A", "2,1,B", "c,1,C")
    with pytest.raises(TooManyBadRows) as err:
        run(data, max_bad_rows=1)
    message = str(err.value)
    assert "2 bad rows of 3 exceed data.max_bad_rows=1 (at most 1 allowed)" in message
    assert "in.csv:2: column 'id': not an integer" in message
    assert "in.csv:4: column 'id': not an integer" in message


def test_max_bad_rows_fraction_is_of_rows_read():
    lines = ["id,fare,company"] + [f"{i},1.0,A" for i in range(99)] + ["x,1.0,A"]
    assert len(run(csv_bytes(*lines), max_bad_rows=0.01).bad_rows) == 1
    with pytest.raises(TooManyBadRows, match="exceed data.max_bad_rows=0.009 \\(at most 0 allowed\\)"):
        run(csv_bytes(*lines), max_bad_rows=0.009)


def test_default_policy_tolerates_no_bad_row():
    with pytest.raises(TooManyBadRows, match="in.csv:2: column 'fare': not a number"):
        run(csv_bytes("id,fare,company", "1,cheap,A"))


def test_quarantine_file_round_trips_in_row_order():
    result = run(csv_bytes("id,fare,company", "1,x,A", "2", "3,1.0,A"), max_bad_rows=5)
    text = to_jsonl(result.bad_rows)
    assert [json.loads(line)["row"] for line in text.splitlines()] == [2, 3]
    assert from_jsonl(text) == sorted(result.bad_rows, key=lambda b: b.row)


def test_empty_file_is_refused_with_its_name():
    with pytest.raises(InputError, match="empty input: in.csv has no header and no rows"):
        run(b"")


def test_header_only_input_is_refused():
    with pytest.raises(InputError, match="empty input: in.csv contain\\(s\\) a header but no rows"):
        run(csv_bytes("id,fare,company"))


def test_header_mismatch_between_files_names_both_files_and_the_column():
    files = [("a.csv", csv_bytes("id,fare,company", "1,1,A")), ("b.csv", csv_bytes("id,tips,company", "1,1,A"))]
    with pytest.raises(InputError) as err:
        ingest(files, data_format="csv", splits=SPLITS)
    assert "header mismatch between files of one span: b.csv differs from a.csv at column 2 ('tips' vs 'fare')" in str(
        err.value
    )


def test_unknown_key_column_is_refused():
    with pytest.raises(InputError, match="data.key: column 'trip_id' is not in the input"):
        run(csv_bytes("id,fare,company", "1,1,A"), key="trip_id")


def test_float_key_column_is_refused():
    with pytest.raises(ValueError, match="data.key: column 'fare' is FLOAT; split keys must be integer or string"):
        run(csv_bytes("id,fare,company", "1,1,A"), key="fare")


def test_rerun_with_the_same_input_gives_identical_splits():
    lines = ["id,fare,company"] + [f"{i},{i * 0.5},C{i % 7}" for i in range(2000)]
    first, second = run(csv_bytes(*lines)), run(csv_bytes(*lines))
    assert np.array_equal(first.split_index, second.split_index)
    counts = first.rows_per_split()
    assert sum(counts.values()) == 2000 and 1250 < counts["train"] < 1420  # ~2/3 by hash


def test_key_split_matches_csvexamplegen_partition_hash():
    import tensorflow as tf

    values = pa.array([5, -3, None, 1 << 40], pa.int64())
    buckets = key_buckets(values, kind=col.INT, key="id", total_buckets=3)
    for value, bucket in zip(values.to_pylist(), buckets, strict=True):
        feature = tf.train.Feature(int64_list=tf.train.Int64List(value=[] if value is None else [value]))
        assert _feature_bytes(value, col.INT) == feature.SerializeToString(deterministic=True)
        assert bucket == int(hashlib.sha256(feature.SerializeToString(deterministic=True)).hexdigest(), 16) % 3


def test_examples_keep_empty_cells_as_features_with_zero_values():
    import tensorflow as tf

    from tfxgate.components.ingest.examples import serialize

    result = run(csv_bytes("id,fare,company,note", "1,,A,", "2,2.0,,"), rules={**RULES})
    [chunk] = serialize(result.columns, result.kinds, length=2)
    first = tf.train.Example.FromString(chunk[0]).features.feature
    assert first["fare"].HasField("float_list") and list(first["fare"].float_list.value) == []
    assert list(first["id"].int64_list.value) == [1]
    assert not first["note"].HasField("kind")  # a column empty everywhere has no type, as in CsvExampleGen


def test_parquet_input_keeps_its_types(tmp_path):
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": [1, 2], "fare": [1.5, None], "company": ["A", "B"]}), path)
    result = ingest([(str(path), path.read_bytes())], data_format="parquet", splits=SPLITS)
    assert result.kinds == {"id": col.INT, "fare": col.FLOAT, "company": col.BYTES}
    assert result.columns["fare"].to_pylist() == [1.5, None]
