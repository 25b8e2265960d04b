"""Missing-value tokens (`data.null_values`): read as nulls by both engines, and `tfxgate check`'s hint."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tfxgate.components.ingest import columns as col
from tfxgate.components.ingest.ingestion import ingest
from tfxgate.components.ingest.null_values import DEFAULT_NULL_VALUES, tokens_in_numeric_columns

SPLITS = {"train": 2, "eval": 1}
# Yearly data as a user wrote it: NA, N/A, empty and null for missing values, in numeric and string columns.
DATA = b"""id,age,income,species
1,31,1200.5,adelie
2,NA,NA,gentoo
3,40,,NA
4,N/A,980.25,adelie
5,null,NaN,None
6,28,1100,chinstrap
"""


def test_the_default_tokens_are_arrows_csv_nulls_plus_none():
    assert set(DEFAULT_NULL_VALUES) == set(pacsv.ConvertOptions().null_values) | {"None"}


def test_na_tokens_become_nulls_and_numeric_columns_stay_numeric():
    result = ingest([("in.csv", DATA)], data_format="csv", splits=SPLITS)
    assert result.kinds == {"id": col.INT, "age": col.INT, "income": col.FLOAT, "species": col.BYTES}
    assert result.columns["age"].null_count == 3 and result.columns["age"].to_pylist()[:3] == [31, None, 40]
    assert result.columns["income"].null_count == 3
    assert result.columns["species"].null_count == 2
    assert result.bad_rows == [] and result.rows_read == 6


def test_an_override_replaces_the_tokens_and_the_empty_cell_stays_missing():
    result = ingest([("in.csv", DATA)], data_format="csv", splits=SPLITS, null_values=["NA", "N/A", "null"])
    # NaN is a number again, None a species; the empty income cell is still missing.
    assert result.kinds["income"] == col.FLOAT and result.columns["income"].null_count == 2
    assert b"None" in result.columns["species"].to_pylist()
    # Without NA as a token, the numeric columns are strings: what the user hit.
    strings = ingest([("in.csv", DATA)], data_format="csv", splits=SPLITS, null_values=[])
    assert strings.kinds["age"] == col.BYTES and strings.columns["age"].null_count == 0


def test_with_a_schema_tokens_are_missing_values_not_bad_rows():
    rules = {"id": col.ColumnRule(col.INT), "age": col.ColumnRule(col.INT), "income": col.ColumnRule(col.FLOAT)}
    result = ingest([("in.csv", DATA)], data_format="csv", splits=SPLITS, rules=rules)
    assert result.bad_rows == [] and result.columns["age"].null_count == 3


def test_parquet_string_cells_equal_to_a_token_are_missing(tmp_path):
    table = pa.table({"id": [1, 2, 3], "age": ["31", "NA", "40"], "score": [1.5, float("nan"), 2.0]})
    pq.write_table(table, tmp_path / "in.parquet")
    data = (tmp_path / "in.parquet").read_bytes()
    result = ingest([("in.parquet", data)], data_format="parquet", splits=SPLITS)
    assert result.kinds["age"] == col.INT and result.columns["age"].to_pylist() == [31, None, 40]


def test_beam_engine_reads_the_same_nulls(tmp_path):
    from tests.test_ingest_beam import in_process, run_beam

    files = {"a.csv": DATA + b"".join(b"%d,NA,%d.5,gentoo\n" % (i, i) for i in range(7, 60))}  # many shards
    examples, summary, _ = run_beam(tmp_path, files, shard_bytes=64)
    expected, result = in_process(tmp_path, files)
    assert examples == expected and summary["kinds"]["age"] == col.INT
    assert result.columns["age"].null_count == 3 + 53


def test_check_names_numeric_columns_with_undeclared_tokens(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(DATA.replace(b"N/A", b"?").replace(b"NaN", b"missing"))
    found = tokens_in_numeric_columns(str(path), data_format="csv", null_values=DEFAULT_NULL_VALUES)
    assert [(f.column, f.tokens) for f in found] == [("age", {"?": 1}), ("income", {"missing": 1})]
    message = found[0].describe(str(path))
    assert "column 'age'" in message and "'?' (1x)" in message and "data.null_values" in message
    # Declared: nothing to say. A genuine string column is not a numeric one.
    declared = [*DEFAULT_NULL_VALUES, "?", "missing"]
    quiet = tokens_in_numeric_columns(str(path), data_format="csv", null_values=declared)
    assert quiet == []


@pytest.mark.parametrize("rows", [2, 1000])
def test_check_samples_only_the_first_rows(tmp_path, rows):
    path = tmp_path / "in.csv"
    path.write_text("x\n" + "1\n" * 10 + "oops\n")
    found = tokens_in_numeric_columns(str(path), data_format="csv", null_values=[], rows=rows)
    assert [f.column for f in found] == ([] if rows == 2 else ["x"])


def test_check_samples_parquet_string_columns(tmp_path):
    table = pa.table({"age": ["31", "?", "40"], "score": [1.5, 2.0, 3.0], "name": ["a", "b", "c"]})
    pq.write_table(table, tmp_path / "in.parquet")
    found = tokens_in_numeric_columns(str(tmp_path / "in.parquet"), data_format="parquet", null_values=["NA"])
    assert [(f.column, f.tokens, f.numbers) for f in found] == [("age", {"?": 1}, 2)]
