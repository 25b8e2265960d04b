"""Ingest's in-process engine streams block by block: the same rows, splits, types, quarantine and
tf.Examples as ingesting the whole span at once, whatever the block size; and the executor's files."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from tfxgate.components.ingest import examples as example_files
from tfxgate.components.ingest.ingestion import ingest
from tfxgate.components.ingest.quarantine import to_jsonl
from tfxgate.components.ingest.streaming import ingest_stream

SPLITS = {"train": 2, "eval": 1}


class CollectingSink:
    """Keeps the serialized examples per split, in order (what the TFRecord writer would get)."""

    def __init__(self):
        self.records: dict[str, list[bytes]] = {}
        self.restarts = 0
        self.batches = 0

    def write(self, split: str, batch: pa.RecordBatch) -> None:
        self.batches += 1
        for chunk in example_files.serialize_batch(batch):
            self.records.setdefault(split, []).extend(chunk)

    def restart(self) -> None:
        self.records, self.restarts = {}, self.restarts + 1


def whole(paths, **settings):
    """The whole-span reference: `ingestion.ingest` on every file's bytes, encoded per split."""
    result = ingest([(str(p), p.read_bytes()) for p in paths], **settings)
    records = {}
    for position, name in enumerate(result.split_names):
        columns, length = result.split_columns(position)
        if length:
            records[name] = [
                r for chunk in example_files.serialize(columns, result.kinds, length=length) for r in chunk
            ]
    return result, records


def streamed(paths, *, block_bytes, **settings):
    sink = CollectingSink()
    result = ingest_stream(
        [str(p) for p in paths], open_file=lambda p: open(p, "rb"), sink=sink, block_bytes=block_bytes, **settings
    )
    return result, sink


def assert_same(paths, *, block_bytes, **settings):
    settings = {"data_format": "csv", "splits": SPLITS, **settings}
    reference, records = whole(paths, **settings)
    result, sink = streamed(paths, block_bytes=block_bytes, **settings)
    assert result.rows_per_split == reference.rows_per_split()
    assert result.rows_read == reference.rows_read
    assert result.kinds == reference.kinds
    assert sorted(result.inferred) == sorted(reference.inferred)
    assert result.file_sha256 == reference.file_sha256
    assert to_jsonl(result.bad_rows) == to_jsonl(reference.bad_rows)
    assert _ordered(sink.records) == _ordered(records)  # the same examples, in the same order
    return result, sink


@pytest.mark.parametrize("block_bytes", [4096, 1 << 20])
def test_taxi_sample_in_many_blocks_gives_what_the_whole_span_gives(sample_csv, block_bytes):
    result, sink = assert_same([sample_csv], block_bytes=block_bytes)
    assert sum(result.rows_per_split.values()) == 3001  # every 5th of the 15,004 rows
    if block_bytes == 4096:
        assert sink.batches > 100  # block boundaries really exercised
    assert result.passes == 1


def test_key_split_and_several_files_stream_like_the_whole(sample_csv, tmp_path):
    lines = sample_csv.read_text().splitlines(keepends=True)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("".join(lines[:1000]))
    second.write_text(lines[0] + "".join(lines[1000:]))
    assert_same([first, second], block_bytes=2048, key="payment_type")


def test_a_kind_widened_by_a_later_block_streams_the_input_again(tmp_path):
    path = tmp_path / "data.csv"
    rows = [f"{i},,{i}" for i in range(200)]  # `late` empty, `num` an integer in the first blocks
    rows += [f"{i},{i},{i}.5" for i in range(200, 400)]  # then `late` gets integers, `num` becomes a float
    path.write_text("id,late,num\n" + "\n".join(rows) + "\n")
    result, sink = assert_same([path], block_bytes=256)
    assert result.kinds == {"id": "INT", "late": "INT", "num": "FLOAT"}
    assert result.passes == 2 and sink.restarts == 1


def test_bad_rows_in_later_blocks_keep_their_file_lines(tmp_path):
    path = tmp_path / "data.csv"
    rows = [f"{i},{i}.5" for i in range(300)]
    rows[150] = "150"  # wrong column count
    rows[290] = "oops,1"  # not an integer
    rows[10] = '"multi\nline",2'  # a quoted value across lines, before them
    path.write_text("id,value\n" + "\n".join(rows) + "\n")
    schema_rules = _rules({"id": "INT", "value": "FLOAT"})
    result, _ = assert_same([path], block_bytes=200, rules=schema_rules, max_bad_rows=3)
    assert [(b.row, b.column) for b in sorted(result.bad_rows, key=lambda b: b.row)] == [
        (12, "id"),
        (153, None),
        (293, "id"),
    ]


def test_parquet_streams_by_row_group(tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "data.parquet"
    table = pa.table({"id": list(range(1000)), "name": [f"n{i % 7}" for i in range(1000)]})
    pq.write_table(table, path, row_group_size=100)
    result, sink = assert_same([path], block_bytes=1 << 20, data_format="parquet")
    assert sink.batches >= 10


def test_header_only_input_is_refused_naming_the_file(tmp_path):
    from tfxgate.components.ingest.arrow_csv import InputError

    path = tmp_path / "data.csv"
    path.write_text("id,value\n")
    with pytest.raises(InputError, match=f"empty input: {path} contain"):
        streamed([path], block_bytes=64, data_format="csv", splits=SPLITS)


def _ordered(records: dict[str, list[bytes]]) -> dict[str, list[bytes]]:
    """Each example serialized deterministically (the encoder's feature-map order is not)."""
    import tensorflow as tf

    return {
        split: [tf.train.Example.FromString(r).SerializeToString(deterministic=True) for r in found]
        for split, found in records.items()
    }


def _rules(kinds: dict[str, str]):
    from tfxgate.components.ingest.columns import ColumnRule

    return {name: ColumnRule(kind) for name, kind in kinds.items()}


def test_executor_writes_the_arrow_copy_only_when_asked(tmp_path, sample_csv):
    from tests.test_ingest_component import execute
    from tfxgate.artifacts.examples import read_split
    from tfxgate.components.ingest.component import Ingest

    def run(folder, **options):
        component = Ingest(input_base=str(sample_csv.parent), input_pattern=sample_csv.name, splits=SPLITS, **options)
        props = {k: v for k, v in component.exec_properties.items() if v is not None}
        from tfx.utils import proto_utils

        for key in ("input_config", "output_config"):
            if not isinstance(props[key], str):
                props[key] = proto_utils.proto_to_json(props[key])
        folder.mkdir()
        return execute(folder, props)

    with_copy, _ = run(tmp_path / "copy", block_bytes=8192)
    without, _ = run(tmp_path / "none", arrow_copy=False)
    assert not (tmp_path / "none" / "examples" / "arrow").exists()
    sidecar = json.loads((tmp_path / "copy" / "examples" / "arrow" / "Split-train.json").read_text())
    counts = json.loads(with_copy.get_string_custom_property("rows_per_split"))
    assert sidecar["rows"] == counts["train"] and sidecar["bytes"] > 0
    for split in SPLITS:  # the copy holds what the TFRecords hold
        copy = read_split(with_copy.uri, split)
        decoded = read_split(without.uri, split)
        assert pa.Table.from_batches([decoded]).equals(copy.combine_chunks()) or copy.to_pylist() == decoded.to_pylist()
    assert with_copy.get_string_custom_property("input_files_sha256") == without.get_string_custom_property(
        "input_files_sha256"
    )
