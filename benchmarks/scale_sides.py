"""One stage of the `scale_10m` benchmark, run in its own process (so its peak RSS is its own).

`--stage ingest` runs Ingest's in-process engine (the executor's `_ingest_in_process`:
streamed blocks, tf.Examples, Arrow copy) on `--data` into `--examples`;
`--stage validate` computes the statistics of every split and TFDV's anomalies
against the taxi schema (Validate's executor); `--stage drift` compares the
train split with itself as the previous span (DataDrift's executor: the work of
two spans). `--max-in-memory-bytes` is `runner.max_in_memory_bytes`.
`--beam-args` (a JSON list of Beam flags, e.g. a portable job service's) runs
the stage's Beam path there: Ingest's Beam engine (the executor's
`_ingest_with_beam`: shards, tf.Examples, no Arrow copy) and Validate's TFDV
statistics on Beam; DataDrift reads its splits in the driver, batch by batch,
either way (its Beam path, `components/drift/beam_summary.py`, is not measured). Writes
`{"seconds", "peak_rss_mib", "outcome"}` to `--report`; a stage that refuses
(over the memory bound) reports the refusal as its outcome, not a crash.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "taxi" / "schema.pbtxt"
SPLITS = {"train": 2, "eval": 1}


def ingest(data: Path, examples: Path, *, block_bytes, beam_args=None) -> str:
    from tfx.types import artifact_utils, standard_artifacts

    from tfxgate.components.ingest import executor
    from tfxgate.components.ingest.shards import SHARD_BYTES

    artifact = standard_artifacts.Examples()
    artifact.uri = str(examples)
    artifact.split_names = artifact_utils.encode_split_names(list(SPLITS))
    # The same CSV input for both engines: no rules, no keys, no bad rows tolerated.
    csv_input = dict(
        data_format="csv",
        splits=SPLITS,
        rules={},
        key=None,
        split_key=None,
        null_values=executor.DEFAULT_NULL_VALUES,
        max_bad_rows=0,
    )
    if beam_args:
        from tfx.dsl.components.base import base_beam_executor

        context = base_beam_executor.BaseBeamExecutor.Context(
            beam_pipeline_args=beam_args, tmp_dir=str(examples.parent / "tmp"), unique_id="scale"
        )
        outcome = executor.Executor(context)._ingest_with_beam([str(data)], examples=artifact, **csv_input)
        return f"rows per split {outcome.rows_per_split} (Beam engine)"
    outcome = executor._ingest_in_process(
        [str(data)],
        examples=artifact,
        block_bytes=block_bytes or SHARD_BYTES,
        arrow_copy=True,  # Validate and DataDrift read it: its cost counts here
        **csv_input,
    )
    return f"rows per split {outcome.rows_per_split}"


def validate(examples: Path, work: Path, *, limit, beam_args=None) -> str:
    from tfxgate.artifacts.schema import read_schema
    from tfxgate.components.validate import executor

    if beam_args:
        stats = {s: executor.statistics_on_beam(str(examples), s, pipeline_args=beam_args) for s in SPLITS}
    else:
        stats = executor.compute_statistics(
            str(examples), list(SPLITS), statistics_uri=str(work / "statistics"), max_in_memory_bytes=limit
        )
    settings = executor.Settings(environment="TRAINING", default="warn")
    findings = executor.check_anomalies(
        stats, read_schema(str(SCHEMA)), settings=settings, anomalies_uri=str(work / "anomalies")
    )
    return f"{len(findings)} anomalies"


def drift(examples: Path, work: Path, *, limit) -> str:
    from tfxgate.artifacts.examples import SplitTooLarge
    from tfxgate.components.drift import executor
    from tfxgate.drift.check import DEFAULT_THRESHOLDS

    settings = executor.Settings(
        policy="warn", thresholds=dict(DEFAULT_THRESHOLDS), features={}, max_in_memory_bytes=limit
    )
    try:
        reports, blessed = executor.run(
            examples_uri=str(examples),
            examples_name="this span",
            baselines={executor.DRIFT: (str(examples), "previous span")},
            schema=None,
            settings=settings,
            output_dir=str(work / "drift"),
        )
    except SplitTooLarge as err:
        return f"refused: {err}"
    return f"blessed={blessed}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", choices=["ingest", "validate", "drift"], required=True)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--examples", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--block-bytes", type=int)
    parser.add_argument("--max-in-memory-bytes", type=int)
    parser.add_argument("--beam-args", type=json.loads, help="JSON list of Beam flags: the stage's Beam path there")
    args = parser.parse_args()
    # Imports before the clock, as in the other benchmarks: the seconds are the stage's work.
    import tensorflow  # noqa: F401
    import tensorflow_data_validation  # noqa: F401

    from tfxgate.components.drift import executor as _drift  # noqa: F401
    from tfxgate.components.ingest import executor as _ingest  # noqa: F401
    from tfxgate.components.validate import executor as _validate  # noqa: F401

    began = time.monotonic()
    if args.stage == "ingest":
        outcome = ingest(args.data, args.examples, block_bytes=args.block_bytes, beam_args=args.beam_args)
    elif args.stage == "validate":
        outcome = validate(args.examples, args.work, limit=args.max_in_memory_bytes, beam_args=args.beam_args)
    else:
        outcome = drift(args.examples, args.work, limit=args.max_in_memory_bytes)
    seconds = time.monotonic() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    args.report.write_text(json.dumps({"seconds": round(seconds, 2), "peak_rss_mib": round(peak), "outcome": outcome}))


if __name__ == "__main__":
    main()
