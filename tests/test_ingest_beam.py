"""Ingest scaled out: shard planning (pure) and the Beam pipeline, which must split exactly like one process."""

from __future__ import annotations

import glob
import io
import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_ingest_component import run_executor
from tfxgate.components.ingest import columns as col
from tfxgate.components.ingest.ingestion import ingest
from tfxgate.components.ingest.quarantine import to_jsonl
from tfxgate.components.ingest.shards import plan_csv, plan_parquet, read_shard

SPLITS = {"train": 2, "eval": 1}


def messy_csv(rows: int, *, seed: int = 7) -> bytes:
    """Quoted newlines, escaped quotes, blank lines, bad rows; `amount` is INT early and FLOAT late, `code`
    numeric but for one word (so inference must see every shard to type them)."""
    rng = random.Random(seed)
    lines = ["id,text,amount,tag,code"]
    for i in range(rows):
        text = rng.choice(["plain", '"two\nlines"', '"say ""hi"", twice"', "", '"a,b"'])
        amount = str(i) if i < rows // 2 else f"{i}.25"
        code = "unknown" if i == rows - 3 else str(i % 11)
        lines.append(f"{i},{text},{amount},T{i % 5},{code}")
        if i % 61 == 5:
            lines.append("")
        if i % 83 == 7:
            lines.append(f'{i},"short\nrow"')  # wrong column count, over two lines
    return ("\n".join(lines) + "\n").encode()


def shard_rows(data: bytes, shard_bytes: int):
    plan = plan_csv("in.csv", io.BytesIO(data), shard_bytes=shard_bytes)
    return plan, [read_shard(shard, io.BytesIO(data)) for shard in plan.shards]


@pytest.mark.parametrize("shard_bytes", [40, 300, 5000])
def test_shards_cut_only_between_records_and_keep_file_line_numbers(shard_bytes):
    data = messy_csv(400)
    plan, parts = shard_rows(data, shard_bytes)
    [whole] = shard_rows(data, 10**9)[1]
    assert len(plan.shards) > 1 and plan.header == ["id", "text", "amount", "tag", "code"]
    assert [v for p in parts for v in p.table.column("id").to_pylist()] == whole.table.column("id").to_pylist()
    assert [line for p in parts for line in p.lines.tolist()] == whole.lines.tolist()
    assert [(b.row, b.raw_line) for p in parts for b in p.bad_rows] == [(b.row, b.raw_line) for b in whole.bad_rows]


def test_a_quoted_field_longer_than_a_shard_stays_in_one_shard():
    data = b'id,text\n1,"' + b"x\n" * 500 + b'"\n2,short\n'
    _, parts = shard_rows(data, 64)
    assert [p.lines.tolist() for p in parts if p.table.num_rows] == [[2], [503]]


def test_plan_fingerprints_the_whole_file_and_refuses_an_empty_one():
    import hashlib

    from tfxgate.components.ingest.arrow_csv import InputError

    data = messy_csv(50)
    assert plan_csv("in.csv", io.BytesIO(data), shard_bytes=100).sha256 == hashlib.sha256(data).hexdigest()
    with pytest.raises(InputError, match="empty input: in.csv has no header and no rows"):
        plan_csv("in.csv", io.BytesIO(b"\n \n"))


def test_parquet_is_sharded_by_row_group(tmp_path):
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": list(range(10)), "x": [i * 0.5 for i in range(10)]}), path, row_group_size=4)
    with open(path, "rb") as handle:
        plan = plan_parquet(str(path), handle)
        parts = [read_shard(shard, handle) for shard in plan.shards]
    assert [s.first_line for s in plan.shards] == [1, 5, 9]
    assert [p.lines.tolist() for p in parts] == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]


def run_beam(tmp_path, files: dict[str, bytes], *, shard_bytes, rules=None, key=None, split_key=None, null_values=None):
    """Plans small shards and runs the Beam ingestion on the in-memory DirectRunner; returns examples by split."""
    import apache_beam as beam

    from tfxgate.components.ingest import beam_ingest
    from tfxgate.components.ingest.null_values import DEFAULT_NULL_VALUES
    from tfxgate.components.ingest.splits import split_key_columns

    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(data)
    plans = [plan_csv(str(p), io.BytesIO(p.read_bytes()), shard_bytes=shard_bytes) for p in paths.values()]
    staging = str(tmp_path / "staging")
    with beam.Pipeline() as pipeline:
        beam_ingest.build(
            pipeline,
            [s for plan in plans for s in plan.shards],
            staging=staging,
            splits=SPLITS,
            rules=rules or {},
            key=key,
            header=plans[0].header,
            hashed=split_key_columns(split_key, header=plans[0].header, schema_columns=rules or {}),
            null_values=DEFAULT_NULL_VALUES if null_values is None else null_values,
        )
    bad_rows = (tmp_path / "staging" / beam_ingest.BAD_ROWS_FILE).read_text()
    return (
        {name: read_examples(f"{staging}/Split-{name}/*") for name in SPLITS},
        beam_ingest.read_summary(staging),
        bad_rows,
    )


def canonical(records) -> list[bytes]:
    """Examples in a comparable form: sorted, each serialized deterministically (sorted feature map)."""
    import tensorflow as tf

    return sorted(tf.train.Example.FromString(r).SerializeToString(deterministic=True) for r in records)


def read_examples(pattern: str) -> list[bytes]:
    import tensorflow as tf

    files = sorted(glob.glob(pattern))
    return canonical(r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP"))


def in_process(tmp_path, files: dict[str, bytes], **kwargs):
    from tfxgate.components.ingest.examples import serialize

    result = ingest([(str(tmp_path / n), d) for n, d in files.items()], data_format="csv", splits=SPLITS, **kwargs)
    by_split = {}
    for position, name in enumerate(result.split_names):
        columns, length = result.split_columns(position)
        by_split[name] = canonical(r for chunk in serialize(columns, result.kinds, length=length) for r in chunk)
    return by_split, result


@pytest.mark.parametrize("key", [None, "tag"])
def test_beam_over_many_shards_gives_the_same_splits_types_and_quarantine_as_one_process(tmp_path, key):
    files = {"a.csv": messy_csv(300, seed=1), "b.csv": messy_csv(200, seed=2)}
    examples, summary, bad_rows = run_beam(tmp_path, files, shard_bytes=500, key=key)
    expected, result = in_process(tmp_path, files, key=key, max_bad_rows=1000)
    assert (
        summary["kinds"]
        == result.kinds
        == {
            "id": col.INT,
            "text": col.BYTES,
            "amount": col.FLOAT,
            "tag": col.BYTES,
            "code": col.BYTES,
        }
    )
    assert summary["rows_per_split"] == result.rows_per_split() and summary["rows_read"] == result.rows_read
    assert examples == expected and len(examples["train"]) > len(examples["eval"]) > 0
    assert bad_rows == to_jsonl(result.bad_rows) and len(result.bad_rows) > 5


def test_each_shard_writes_one_file_per_split_and_a_rerun_replaces_it(tmp_path):
    """Examples never flow as Beam elements: each shard writes its own file, named by the shard, so a
    retried bundle (here: the whole pipeline run again into the same staging) replaces instead of adding."""
    files = {"a.csv": messy_csv(120, seed=3)}
    shard_count = len(plan_csv("a.csv", io.BytesIO(files["a.csv"]), shard_bytes=700).shards)
    first, _, _ = run_beam(tmp_path, files, shard_bytes=700, key="tag")
    again, summary, _ = run_beam(tmp_path, files, shard_bytes=700, key="tag")
    assert again == first == in_process(tmp_path, files, key="tag", max_bad_rows=1000)[0]
    assert sum(summary["rows_per_split"].values()) == sum(len(examples) for examples in again.values())
    for split in SPLITS:
        names = sorted(p.name for p in (tmp_path / "staging" / f"Split-{split}").iterdir())
        assert shard_count > 2 and names == [
            f"data_tfrecord-{i:05d}-of-{shard_count:05d}.gz" for i in range(shard_count)
        ]
    assert not list((tmp_path / "staging" / "scratch").iterdir())  # every file renamed into its split


def test_beam_with_a_schema_skips_inference_and_checks_nan(tmp_path):
    files = {"a.csv": b"id,x\n1,1.5\n2,nan\n3,\n"}
    rules = {"id": col.ColumnRule(col.INT), "x": col.ColumnRule(col.FLOAT, disallow_nan=True)}
    # `nan` is a missing-value token by default; with the tokens replaced, it is a NaN the schema forbids.
    examples, summary, bad_rows = run_beam(tmp_path, files, shard_bytes=8, rules=rules, null_values=["NA"])
    assert summary["rows_read"] == 3 and sum(summary["rows_per_split"].values()) == 2
    [bad] = [json.loads(line) for line in bad_rows.splitlines()]
    assert (bad["row"], bad["column"], bad["raw_line"]) == (3, "x", "2,nan")
    assert examples == in_process(tmp_path, files, rules=rules, max_bad_rows=1, null_values=["NA"])[0]


def test_beam_engine_in_the_executor_publishes_what_the_arrow_engine_does(tmp_path):
    text = "id,value\n" + "".join(f"{i},{i}.5\n" for i in range(200)) + "oops,1\n"
    beam_out, beam_quarantine = run_executor(tmp_path / "beam", text, engine="beam", max_bad_rows=1)
    arrow_out, _ = run_executor(tmp_path / "arrow", text, engine="arrow", max_bad_rows=1)
    for name in ("rows_per_split", "rows_read", "bad_rows", "inferred_types"):
        assert beam_out.get_custom_property(name) == arrow_out.get_custom_property(name), name
    assert json.loads(beam_out.get_string_custom_property("input_files_sha256")) == {
        str(tmp_path / "beam" / "in" / "data.csv"): __import__("hashlib").sha256(text.encode()).hexdigest()
    }
    for split in SPLITS:
        assert read_examples(f"{beam_out.uri}/Split-{split}/*") == read_examples(f"{arrow_out.uri}/Split-{split}/*")
    [bad] = (tmp_path / "beam" / "quarantine" / "bad_rows.jsonl").read_text().splitlines()
    assert json.loads(bad)["row"] == 202 and beam_quarantine.get_int_custom_property("bad_rows") == 1
    assert not list((tmp_path / "beam" / "tmp").glob("**/*.gz"))  # staging emptied on publish


def test_beam_engine_over_the_policy_publishes_nothing(tmp_path):
    from tfxgate.components.ingest.quarantine import TooManyBadRows

    with pytest.raises(TooManyBadRows, match="data.csv:3: column 'value': not a number"):
        run_executor(tmp_path, "id,value\n1,1.0\n2,abc\n", engine="beam")
    assert not (tmp_path / "examples").exists()
    assert not (tmp_path / "quarantine" / "bad_rows.jsonl").exists()


def test_beam_engine_refuses_header_only_input(tmp_path):
    from tfxgate.components.ingest.arrow_csv import InputError

    with pytest.raises(InputError, match="empty input: .*data.csv contain\\(s\\) a header but no rows"):
        run_executor(tmp_path, "id,value\n", engine="beam")


@pytest.mark.parametrize(
    ("args", "engine"),
    [
        (None, "arrow"),
        (["--runner=DirectRunner", "--direct_running_mode=in_memory", "--direct_num_workers=2"], "arrow"),
        (["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"], "arrow"),
        (["--runner=DirectRunner", "--direct_running_mode=multi_threading"], "arrow"),
        (["--runner=DataflowRunner", "--project=p", "--region=r"], "beam"),
        (["--runner=FlinkRunner", "--flink_master=localhost:8081"], "beam"),
    ],
)
def test_auto_engine_keeps_one_process_on_the_direct_runner_and_beam_elsewhere(args, engine):
    from tfxgate.components.ingest.executor import choose_engine

    assert choose_engine("auto", args) == engine and choose_engine("arrow", args) == "arrow"


def test_beam_refuses_a_float_key_column_by_name(tmp_path):
    with pytest.raises(ValueError, match="data.key: column 'fare' is FLOAT; split keys must be integer or string"):
        run_beam(tmp_path, {"a.csv": b"id,fare\n1,1.5\n2,2.5\n"}, shard_bytes=8, key="fare")
