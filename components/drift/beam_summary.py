"""DataDrift's split summaries on Beam: under any runner but the DirectRunner, the SDK workers read the split.

As Ingest's Beam engine and Validate's TFDV statistics do on a portable job
service, Flink, Spark or Dataflow: the workers read the split's TFRecords,
decode them `BATCH_ROWS` at a time into Arrow and summarise each batch
(`tfxgate.drift.tables.add_batch`); the workers' summaries are merged
(`columns.Summarizer.merge`) and the one merged summary is written as a pickle
into a scratch folder under the stage's output, which the stage reads back and
removes. The numbers are the in-process path's: counts exactly, moments up to
summation order (tests/test_beam_cluster.py compares the drift reports).
"""

from __future__ import annotations

import os
import pickle
import uuid

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from tfxgate import beam_options
from tfxgate.artifacts.examples import BATCH_ROWS
from tfxgate.drift import columns, tables
from tfxgate.storage import filesystem

SCRATCH_PREFIX = ".beam-summary-"
SUMMARY_FILE = "summary.pkl"


def summarise_split(
    examples_uri: str, split: str, *, categorical: set[str], source: str, pipeline_args: list[str], scratch: str
) -> tuple[columns.Summary, set[str]]:
    """What `tables.summarise(split_batches(...))` returns, computed by the Beam job `pipeline_args` name.

    `scratch`: a folder every worker can write and this process can read (the
    stage's output artifact); the summary passes through `<scratch>/.beam-summary-<id>/`.
    """
    folder = os.path.join(scratch, f"{SCRATCH_PREFIX}{uuid.uuid4().hex}")
    target = os.path.join(folder, SUMMARY_FILE)
    try:
        with beam.Pipeline(options=beam_options.for_workers(pipeline_args)) as pipeline:
            _ = (
                pipeline
                | "Read"
                >> beam.io.ReadFromTFRecord(
                    os.path.join(examples_uri, f"Split-{split}", "*"), compression_type=CompressionTypes.GZIP
                )
                | "Batch" >> beam.BatchElements(min_batch_size=BATCH_ROWS, max_batch_size=BATCH_ROWS)
                | "Summarise" >> beam.CombineGlobally(_Summarise(categorical=categorical, source=source))
                | "Write" >> beam.Map(_write, target)
            )
        summarizer, strings = pickle.loads(filesystem.read_bytes(target))
    finally:
        filesystem.remove_tree(folder)
    return summarizer.summary(), strings


class _Summarise(beam.CombineFn):
    """Batches of serialized tf.Examples -> (Summarizer, string features), merged across workers."""

    def __init__(self, *, categorical: set[str], source: str):
        self._categorical, self._source = frozenset(categorical), source
        self._decoder = None

    def create_accumulator(self):
        return columns.Summarizer(source=self._source), set()

    def add_input(self, accumulator, records):
        if self._decoder is None:  # made on the worker: the C++ decoder does not pickle
            from tfx_bsl.coders import example_coder

            self._decoder = example_coder.ExamplesToRecordBatchDecoder()
        summarizer, strings = accumulator
        strings |= tables.add_batch(summarizer, self._decoder.DecodeBatch(list(records)), categorical=self._categorical)
        return accumulator

    def merge_accumulators(self, accumulators):
        accumulators = iter(accumulators)
        summarizer, strings = next(accumulators)
        for other, other_strings in accumulators:
            summarizer.merge(other)
            strings |= other_strings
        return summarizer, strings

    def extract_output(self, accumulator):
        return accumulator

    def __getstate__(self):
        return {**self.__dict__, "_decoder": None}


def _write(accumulator, path: str) -> None:
    with FileSystems.create(path) as handle:
        handle.write(pickle.dumps(accumulator))
