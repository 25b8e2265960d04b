"""One side of the `ingest_1m` benchmark, run in its own process.

`--side ours` runs a one-node pipeline with tfxgate's Ingest, `--side stock` the
same with stock CsvExampleGen (same split config, same DirectRunner args as
configs/taxi.yaml); `--side floor` only times `pyarrow.csv.read_csv` of the file.
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


def _pipeline(side: str, data: Path, root: Path) -> float:
    from tfx import v1 as tfx

    if side == "ours":
        from tfxgate.components.ingest.component import Ingest

        node = Ingest(input_base=str(data.parent), input_pattern=data.name, splits=SPLITS)
    else:
        node = tfx.components.CsvExampleGen(
            input_base=str(data.parent),
            input_config=tfx.proto.Input(splits=[tfx.proto.Input.Split(name="all", pattern=data.name)]),
            output_config=tfx.proto.Output(
                split_config=tfx.proto.SplitConfig(
                    splits=[tfx.proto.SplitConfig.Split(name=n, hash_buckets=b) for n, b in SPLITS.items()]
                )
            ),
        )
    pipeline = tfx.dsl.Pipeline(
        pipeline_name=f"ingest-{side}",
        pipeline_root=str(root / "artifacts"),
        components=[node],
        enable_cache=False,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(root / "metadata.sqlite")
        ),
        beam_pipeline_args=["--direct_running_mode=in_memory", "--direct_num_workers=1"],
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
    args = parser.parse_args()
    seconds = _floor(args.data) if args.side == "floor" else _pipeline(args.side, args.data, args.root)
    args.report.write_text(json.dumps({"seconds": round(seconds, 2)}) + "\n")


if __name__ == "__main__":
    main()
