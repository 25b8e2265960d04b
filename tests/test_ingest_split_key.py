"""Stable splits: a row's split depends only on the split key's cells (`data.split_key`).

By default the key is the curated schema's columns (else the header's), combined
in sorted order: adding, removing or reordering any other column, or appending
rows, never moves an existing row to another split. Hypothesis draws the tables.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfxgate.components.ingest import columns as col
from tfxgate.components.ingest.arrow_csv import InputError
from tfxgate.components.ingest.ingestion import ingest
from tfxgate.components.ingest.splits import split_key_columns

SPLITS = {"train": 2, "eval": 1}
SCHEMA = {"id": col.ColumnRule(col.INT), "x": col.ColumnRule(col.FLOAT), "c": col.ColumnRule(col.BYTES)}

cell = st.text(alphabet="abcxyz019 .", max_size=6).filter(lambda t: t.strip() == t)
row = st.tuples(st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 3)), st.sampled_from(["p", "q", "NA", ""]))


def to_csv(columns: dict[str, list[str]], order: list[str]) -> bytes:
    lines = [",".join(order)] + [",".join(columns[name][i] for name in order) for i in range(len(columns["id"]))]
    return ("\n".join(lines) + "\n").encode()


def splits_by_id(data: bytes, **kwargs) -> dict[int, int]:
    result = ingest([("in.csv", data)], data_format="csv", splits=SPLITS, max_bad_rows=0.99, **kwargs)
    return dict(zip(result.columns["id"].to_pylist(), result.split_index.tolist(), strict=True))


def table(rows, extra: dict[str, list[str]]) -> dict[str, list[str]]:
    columns = {"id": [str(i) for i in range(len(rows))], "x": [str(x) for x, _ in rows], "c": [c for _, c in rows]}
    return {**columns, **{name: values[: len(rows)] for name, values in extra.items()}}


@st.composite
def changes(draw):
    """Base rows, rows appended later, other columns added later, and the later column order."""
    rows = draw(st.lists(row, min_size=1, max_size=30))
    appended = draw(st.lists(row, max_size=10))
    total = len(rows) + len(appended)
    names = draw(st.lists(st.sampled_from(["extra", "constant", "note"]), unique=True, max_size=3))
    extra = {name: draw(st.lists(cell, min_size=total, max_size=total)) for name in names}
    order = draw(st.permutations(["id", "x", "c", *names]))
    return rows, appended, extra, list(order)


@settings(max_examples=60, deadline=None)
@given(case=changes())
def test_with_a_schema_other_columns_and_appended_rows_never_move_a_row(case):
    rows, appended, extra, order = case
    before = splits_by_id(to_csv(table(rows, {}), ["id", "x", "c"]), rules=SCHEMA)
    after = splits_by_id(to_csv(table(rows + appended, extra), order), rules=SCHEMA)
    assert {i: after[i] for i in before} == before


@settings(max_examples=60, deadline=None)
@given(case=changes())
def test_an_explicit_split_key_ignores_every_other_column(case):
    rows, appended, extra, order = case
    before = splits_by_id(
        to_csv(table(rows, {"note": ["a"] * len(rows)}), ["note", "id", "x", "c"]), split_key=["x", "id"]
    )
    after = splits_by_id(to_csv(table(rows + appended, extra), order), split_key=["id", "x"])
    assert {i: after[i] for i in before} == before


@settings(max_examples=60, deadline=None)
@given(case=changes())
def test_without_schema_reordered_columns_and_appended_rows_never_move_a_row(case):
    rows, appended, extra, order = case
    columns = ["id", "x", "c", *extra]
    before = splits_by_id(to_csv(table(rows, extra), columns))
    after = splits_by_id(to_csv(table(rows + appended, extra), order))
    assert {i: after[i] for i in before} == before


def test_the_split_key_changes_the_split_and_both_buckets_are_used():
    data = to_csv(
        table([(float(i), "p") for i in range(300)], {"note": [str(i % 7) for i in range(300)]}),
        ["id", "x", "c", "note"],
    )
    by_id, by_note = splits_by_id(data, split_key=["id"]), splits_by_id(data, split_key=["note"])
    assert by_id != by_note and set(by_id.values()) == {0, 1}
    assert len({by_note[i] for i in range(300) if i % 7 == 3}) == 1  # same key cells, same split


def test_split_key_columns_default_and_errors():
    assert split_key_columns(None, header=["b", "a"]) == ["a", "b"]
    assert split_key_columns(["b", "a", "b"], header=["a", "b", "c"], schema_columns=["c"]) == ["a", "b"]
    assert split_key_columns(None, header=["z", "id"], schema_columns=["id", "label"]) == ["id"]
    assert split_key_columns(None, header=["z"], schema_columns=["label"]) == ["z"]  # schema shares nothing
    with pytest.raises(InputError, match=r"data.split_key: 'nope' not in the input \(columns: \['a'\]\)"):
        split_key_columns(["nope"], header=["a"])


def test_both_engines_split_by_the_split_key_alike(tmp_path):
    from tests.test_ingest_beam import in_process, run_beam

    data = to_csv(table([(i * 0.5, "pq"[i % 2]) for i in range(120)], {"note": ["n"] * 120}), ["note", "c", "x", "id"])
    examples, _, _ = run_beam(tmp_path, {"a.csv": data}, shard_bytes=200, split_key=["x", "c"])
    assert examples == in_process(tmp_path, {"a.csv": data}, split_key=["x", "c"])[0]
    assert examples != in_process(tmp_path, {"a.csv": data})[0]  # the default key (all columns) splits otherwise
