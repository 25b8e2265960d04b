"""One side of the `ingest_1m` benchmark, run in its own process.

`--side ours` runs a one-node pipeline with tfxgate's Ingest, `--side stock` the
same with stock CsvExampleGen (same split config, same DirectRunner args as
configs/taxi.yaml); `--side floor` only times `pyarrow.csv.read_csv` of the file.
`--statistics` adds a StatisticsGen on the examples, `--workers N` runs the Beam
stages on the multi-processing DirectRunner with N workers (and Ingest on its
Beam engine), and `--schema` hands Ingest a schema file (the taxi pipeline's).
Writes `{"seconds": ...}` (the in-process time of the work) to `--report`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

SPLITS = {"train": 2, "eval": 1}


def _floor(data: Path) -> float:
    import pyarrow.csv as pacsv

    began = time.monotonic()
    pacsv.read_csv(str(data))
    return time.monotonic() - began


def stock_example_gen(data: Path):
    """Stock CsvExampleGen on `data` alone, split as Ingest splits it (SPLITS hash buckets)."""
    from tfx import v1 as tfx

    return tfx.components.CsvExampleGen(
        input_base=str(data.parent),
        input_config=tfx.proto.Input(splits=[tfx.proto.Input.Split(name="all", pattern=data.name)]),
        output_config=tfx.proto.Output(
            split_config=tfx.proto.SplitConfig(
                splits=[tfx.proto.SplitConfig.Split(name=n, hash_buckets=b) for n, b in SPLITS.items()]
            )
        ),
    )


def _pipeline(side: str, data: Path, root: Path, *, statistics=False, workers=None, schema=None) -> float:
    from tfx import v1 as tfx

    if side == "ours":
        from tfxgate.components.ingest.component import Ingest

        node = Ingest(
            input_base=str(data.parent),
            input_pattern=data.name,
            splits=SPLITS,
            schema_text=schema.read_text() if schema else None,
            engine="beam" if workers else "auto",  # the Beam engine is what the workers scale
            arrow_copy=False,  # nothing here reads it (StatisticsGen reads the TFRecords)
        )
    else:
        node = stock_example_gen(data)
    nodes = [node]
    if statistics:
        nodes.append(tfx.components.StatisticsGen(examples=node.outputs["examples"]))
    beam_args = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
    if workers:
        beam_args = ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    pipeline = tfx.dsl.Pipeline(
        pipeline_name=f"ingest-{side}",
        pipeline_root=str(root / "artifacts"),
        components=nodes,
        enable_cache=False,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(root / "metadata.sqlite")
        ),
        beam_pipeline_args=beam_args,
    )
    began = time.monotonic()
    tfx.orchestration.LocalDagRunner().run(pipeline)
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", choices=["ours", "stock", "floor"], required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--statistics", action="store_true", help="add StatisticsGen on the examples")
    parser.add_argument("--workers", type=int, help="multi-processing DirectRunner with this many workers")
    parser.add_argument("--schema", type=Path, help="schema file Ingest types the columns with")
    args = parser.parse_args()
    if args.side == "floor":
        seconds = _floor(args.data)
    else:
        options = dict(statistics=args.statistics, workers=args.workers, schema=args.schema)
        seconds = _pipeline(args.side, args.data, args.root, **options)
    args.report.write_text(json.dumps({"seconds": round(seconds, 2)}) + "\n")


if __name__ == "__main__":
    main()
