"""DataDrift and Validate read a split one record batch at a time and summarise it (issue 20): memory flat in the rows.

The split reader (`examples.split_batches`) never holds more than the batch it
hands out (plus the one being read), from Ingest's Arrow copy or from the
TFRecords; the drift numbers of a span summarised batch by batch equal those of
the whole table (`compare_tables` on `read_split`); a numeric column with more
distinct values than `columns.MAX_DISTINCT` is compressed, within the pinned
tolerance; Validate's statistics merged over batches equal those of the whole table.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pyarrow as pa
import pytest

from tfxgate.artifacts.examples import read_split, split_batches
from tfxgate.components.ingest import examples as example_files
from tfxgate.components.ingest.streaming import ingest_stream
from tfxgate.drift import columns, tables
from tfxgate.drift.check import compare_tables

SPLITS = {"train": 2, "eval": 1}
ROWS = 3000


def _ingest(root, rows: int, *, shift: float) -> str:
    data = root / "data.csv"
    rng = np.random.default_rng(int(shift * 10))
    lines = [
        f"{i},{rng.normal(shift, 3):.3f},{rng.integers(0, 40) / 4},c{rng.integers(0, 4 + int(shift))},{i % 7}\n"
        for i in range(rows)
    ]
    data.write_text("id,fare,miles,company,hour\n" + "".join(lines))
    uri = str(root / "examples")
    writers = example_files.SplitWriters({s: f"{uri}/Split-{s}" for s in SPLITS}, examples_uri=uri)
    result = ingest_stream(
        [str(data)],
        open_file=lambda p: open(p, "rb"),
        sink=writers,
        data_format="csv",
        splits=SPLITS,
        block_bytes=8192,  # many small blocks: the Arrow copy holds one record batch per block
    )
    writers.close(kinds=result.kinds)
    return uri


@pytest.fixture(scope="module")
def spans(tmp_path_factory) -> tuple[str, str]:
    """Two Ingest outputs (Arrow copy + TFRecords) of 3000 rows each, the second one shifted."""
    return (
        _ingest(tmp_path_factory.mktemp("base"), ROWS, shift=0.0),
        _ingest(tmp_path_factory.mktemp("current"), ROWS, shift=2.0),
    )


def test_the_split_reader_holds_one_batch_at_a_time(spans):
    uri, _ = spans
    whole = read_split(uri, "train")
    pa.default_memory_pool().release_unused()
    before, peak, sizes, rows = pa.total_allocated_bytes(), 0, [], 0
    for batch in split_batches(uri, "train"):
        peak = max(peak, pa.total_allocated_bytes() - before)
        sizes.append(batch.nbytes)
        rows += batch.num_rows
        del batch
    assert rows == whole.num_rows and len(sizes) >= 8  # every row, in many batches
    # At most the batch handed out and the one being read, far below the whole split.
    assert 0 < peak <= 2 * max(sizes) < whole.nbytes / 3


def test_the_tfrecord_reader_decodes_bounded_batches(spans, tmp_path):
    uri, _ = spans
    stock = tmp_path / "stock"  # what a stock ExampleGen leaves: TFRecords only
    shutil.copytree(f"{uri}/Split-train", stock / "Split-train")
    batches = list(split_batches(str(stock), "train", batch_rows=500))
    assert [b.num_rows for b in batches[:-1]] == [500] * (len(batches) - 1) and len(batches) >= 4
    assert sum(b.num_rows for b in batches) == read_split(uri, "train").num_rows


def test_tfrecords_are_decoded_in_batches_of_at_most_batch_rows_by_default(tmp_path):
    """What bounds DataDrift's and Validate's memory on another ExampleGen's output: the decode batch."""
    from tfxgate.artifacts.examples import BATCH_ROWS
    from tfxgate.components.ingest.columns import INT

    rows = BATCH_ROWS + 1000
    column = pa.array(np.arange(rows))
    example_files.write_split(
        str(tmp_path / "Split-train"), example_files.serialize({"x": column}, {"x": INT}, length=rows)
    )
    sizes = [batch.num_rows for batch in split_batches(str(tmp_path), "train")]
    assert BATCH_ROWS <= 8192 and sizes == [BATCH_ROWS, 1000]


def test_drift_from_batches_equals_the_whole_table_check_and_ignores_the_old_bound(spans, tmp_path):
    from tfxgate.components.drift import executor as drift

    base_uri, current_uri = spans
    # runner.max_in_memory_bytes=100 used to refuse the span: DataDrift no longer holds it.
    settings = drift.Settings(policy="warn", thresholds={}, features={}, max_in_memory_bytes=100)
    [report], _ = drift.run(
        examples_uri=current_uri,
        examples_name="Examples 2",
        baselines={drift.DRIFT: (base_uri, "Examples 1")},
        schema=None,
        settings=settings,
        output_dir=str(tmp_path),
    )
    base, base_strings = tables.from_arrow(read_split(base_uri, "train"))
    current, strings = tables.from_arrow(read_split(current_uri, "train"))
    whole = compare_tables(base, current, categorical=strings, baseline_categorical=base_strings)
    assert [f.feature for f in report.features] == [f.feature for f in whole.features] == sorted(base)
    for streamed, expected in zip(report.features, whole.features, strict=True):
        assert streamed.values == pytest.approx(expected.values, rel=1e-12, abs=1e-15), streamed.feature
        assert streamed.n == expected.n and streamed.fired == expected.fired
    assert {"company", "fare"} <= set(report.flagged)  # the shift is found
    written = json.loads((tmp_path / "drift_report.json").read_text())
    assert written["reports"][0]["histograms"]["fare"]["labels"]


def test_a_column_with_more_distinct_values_than_the_cap_is_compressed_within_tolerance():
    rng = np.random.default_rng(4)
    base = rng.normal(0, 1, 60000)
    base[rng.random(base.size) < 0.2] = 0.0  # a heavy value: kept exact by the compression
    cur = rng.normal(0.05, 1.1, 50000)
    summarizer_b, summarizer_c = (columns.Summarizer(max_distinct=2000) for _ in range(2))
    for values, summarizer in ((base, summarizer_b), (cur, summarizer_c)):
        for part in np.array_split(values, 12):  # batch by batch, compressed again after each merge
            summarizer.add({"x": part}, categorical=set(), rows=part.size)
    small_b, small_c = summarizer_b.summary(), summarizer_c.summary()
    assert not small_b.numeric("x").exact and small_b.numeric("x").values.size <= 2000
    assert small_b.numeric("x").counts.sum() == base.size and 0.0 in small_b.numeric("x").values.tolist()
    assert small_b.numeric("x").std == pytest.approx(np.std(base), rel=1e-9)  # merged moments: exact
    [approx] = compare_tables(small_b, small_c, categorical=set()).features
    [exact] = compare_tables({"x": base}, {"x": cur}, categorical=set()).features
    assert columns.Span({"x": base}).numeric("x").exact
    # The documented tolerance: the CDF moves by at most ~2/MAX_DISTINCT per compression.
    assert approx.values["ks"] == pytest.approx(exact.values["ks"], abs=5e-3)
    assert approx.values["wasserstein"] == pytest.approx(exact.values["wasserstein"], rel=2e-2, abs=1e-3)
    assert approx.values["psi"] == pytest.approx(exact.values["psi"], abs=5e-3)
    assert approx.values["jsd"] == pytest.approx(exact.values["jsd"], abs=5e-3)
    assert approx.values["missing"] == exact.values["missing"] and approx.n == exact.n


def test_a_feature_changing_type_between_batches_is_refused_naming_it():
    summarizer = columns.Summarizer(source="split 'train' of /x")
    summarizer.add({"a": np.array([1.0, 2.0])}, categorical=set(), rows=2)
    with pytest.raises(ValueError, match=r"feature 'a' of split 'train' of /x is a string from row 2 on"):
        summarizer.add({"a": np.array(["x"], dtype=object)}, categorical={"a"}, rows=1)


def test_validate_statistics_from_batches_equal_those_of_the_whole_table(spans):
    from tfxgate.components.validate.statistics import statistics_from_arrow, statistics_from_batches

    uri, _ = spans
    batches = split_batches(uri, "train")  # a generator: one batch at a time, as Validate reads it
    [streamed] = statistics_from_batches(batches, name="train").datasets
    [whole] = statistics_from_arrow(read_split(uri, "train"), name="train").datasets
    assert [f.path.step[0] for f in streamed.features] == [f.path.step[0] for f in whole.features]
    for mine, theirs in zip(streamed.features, whole.features, strict=True):
        if mine.HasField("num_stats"):  # merged moments: equal to the last bits, not bit for bit
            for field in ("mean", "std_dev"):
                assert getattr(mine.num_stats, field) == pytest.approx(getattr(theirs.num_stats, field), rel=1e-12)
                setattr(mine.num_stats, field, getattr(theirs.num_stats, field))
        assert mine == theirs, mine.path.step[0]  # counts, min/max, median, both histograms, top values


def test_summaries_merged_across_workers_equal_one_summary_of_every_batch():
    """What Beam's workers do (columns.Summarizer.merge): shares summarised apart, then merged, give what one
    Summarizer gives on every batch: counts exactly, moments up to summation order, a feature one share never saw
    missing in that share's rows, compression where the merged values pass the cap."""
    rng = np.random.default_rng(7)
    batches = [
        {"x": rng.normal(0, 1, 700), "c": rng.choice(np.array(["a", "b", None], dtype=object), 700)} for _ in range(6)
    ]
    batches[4] = {"x": rng.normal(0, 1, 700)}  # no `c` in this batch: missing there
    whole = columns.Summarizer(max_distinct=2000)
    shares = [columns.Summarizer(max_distinct=2000) for _ in range(3)]
    for index, batch in enumerate(batches):
        for summarizer in (whole, shares[index % 3]):
            summarizer.add(batch, categorical={"c"} & set(batch), rows=700)
    merged = shares[0]
    for share in shares[1:]:
        merged.merge(share)
    expected, found = whole.summary(), merged.summary()
    assert found.categorical("c").counts == expected.categorical("c").counts
    assert found.categorical("c").missing == expected.categorical("c").missing > 700
    assert not found.numeric("x").exact and found.numeric("x").counts.sum() == 4200  # 4200 values > the cap
    assert found.numeric("x").std == pytest.approx(expected.numeric("x").std, rel=1e-12)
    compared = {f.feature: f for f in compare_tables(expected, found, categorical={"c"}).features}
    assert compared["x"].values["ks"] < 5e-3 and compared["c"].values["linf"] == 0.0
    refused = columns.Summarizer(source="split 'train' of /x")
    refused.add({"c": np.array(["a"], dtype=object)}, categorical={"c"}, rows=1)
    numeric = columns.Summarizer()
    numeric.add({"c": np.array([1.0])}, categorical=set(), rows=1)
    with pytest.raises(ValueError, match=r"feature 'c' of split 'train' of /x is a string in some rows"):
        refused.merge(numeric)


def test_drift_summarised_by_a_beam_job_equals_the_in_process_run(spans, tmp_path):
    """With `beam_args` DataDrift's splits are summarised by a Beam job (here the DirectRunner, named as a runner
    would be; tests/test_beam_cluster.py runs it on external workers): the same report, no scratch left."""
    from tfxgate.components.drift import beam_summary
    from tfxgate.components.drift import executor as drift

    base_uri, current_uri = spans
    reports = {}
    for name, beam_args in (("in_process", None), ("beam", ["--runner=DirectRunner"])):
        settings = drift.Settings(policy="warn", thresholds={}, features={}, beam_args=beam_args)
        output = tmp_path / name
        [reports[name]], _ = drift.run(
            examples_uri=current_uri,
            examples_name="Examples 2",
            baselines={drift.DRIFT: (base_uri, "Examples 1")},
            schema=None,
            settings=settings,
            output_dir=str(output),
        )
        assert not list(output.glob(f"{beam_summary.SCRATCH_PREFIX}*"))
    assert [f.feature for f in reports["beam"].features] == [f.feature for f in reports["in_process"].features]
    for streamed, expected in zip(reports["beam"].features, reports["in_process"].features, strict=True):
        assert streamed.values == pytest.approx(expected.values, rel=1e-9, abs=1e-12), streamed.feature
        assert streamed.n == expected.n and streamed.fired == expected.fired
    assert (
        json.loads(drift.Settings(policy="warn", thresholds={}, features={}).to_json()).keys().isdisjoint({"beam_args"})
    )
