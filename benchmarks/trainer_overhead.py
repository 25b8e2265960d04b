"""Benchmark `trainer_overhead`: the taxi Trainer's work before and after the framework's cuts.

"before" is trainers/taxi/trainer.py as of commit `BEFORE` (a validation pass of
`eval_steps` batches nobody reads, a Keras export that traces every layer, its
own tf.data pipeline); "after" is the module in the working tree
(tfxgate.training.inputs, no validation pass unless `validate`, export without
layer traces). Each side runs `repeats` times, each in a fresh process
(benchmarks/trainer_side.py), on the same tf.Examples (the taxi CSV, 2/3 train,
1/3 eval, GZIP TFRecords as Ingest writes them), 200 steps of batch 128 as in
configs/taxi.yaml. Measured per process: the whole process, `run_fn` (the
Trainer stage's own work), and 200 training steps of a fresh model on the
module's input pipeline vs on the same batches held in memory (after warm-up).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Optional

from benchmarks.data import taxi_data
from benchmarks.process import REPO, timed_run
from benchmarks.repeats import REPEATS, comparison, of_side, result

NAME = "trainer_overhead"
BEFORE = "983c936"  # main before the Trainer overhead work
STEPS, EVAL_STEPS = 200, 50
_INT = {"trip_seconds", "trip_start_hour", "trip_start_day", "trip_start_month"}
_INT |= {"pickup_community_area", "dropoff_community_area"}
_STRING = {"payment_type", "company"}


def _write_examples(data: Path, directory: Path) -> dict[str, str]:
    """GZIP TFRecords of tf.Examples from the CSV (an empty cell: a feature without values, as Ingest)."""
    import tensorflow as tf

    directory.mkdir(parents=True, exist_ok=True)
    paths = {split: str(directory / f"{split}.gz") for split in ("train", "eval")}
    writers = {s: tf.io.TFRecordWriter(p, options="GZIP") for s, p in paths.items()}
    with data.open(newline="") as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            feature = {}
            for name, value in row.items():
                values = [] if value == "" else [value]
                if name in _STRING:
                    feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode() for v in values]))
                elif name in _INT:
                    feature[name] = tf.train.Feature(
                        int64_list=tf.train.Int64List(value=[int(float(v)) for v in values])
                    )
                else:
                    feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[float(v) for v in values]))
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writers["eval" if i % 3 == 2 else "train"].write(example.SerializeToString())
    for writer in writers.values():
        writer.close()
    return paths


def _side(workdir: Path, side: str, module: Path, examples: dict, repeat: int) -> dict:
    out = workdir / f"{side}-{repeat}"
    spec = {"module_file": str(module), **examples, "steps": STEPS, "eval_steps": EVAL_STEPS, "out": str(out / "model")}
    out.mkdir(parents=True, exist_ok=True)
    (out / "spec.json").write_text(json.dumps(spec))
    log = out / "side.log"
    process = timed_run([sys.executable, "-m", "benchmarks.trainer_side", str(out / "spec.json")], log=log)
    measured = json.loads(log.read_text().strip().splitlines()[-1])
    return {"side": side, "repeat": repeat, "process_s": process, **measured}


def run(workdir: Path, *, rows: Optional[int], repeats: int = REPEATS) -> dict:
    data = taxi_data(workdir, rows=rows)
    examples = _write_examples(data, workdir / "examples")
    before = workdir / "before" / "trainer.py"
    before.parent.mkdir(parents=True, exist_ok=True)
    before.write_text(
        subprocess.run(
            ["git", "show", f"{BEFORE}:trainers/taxi/trainer.py"], cwd=REPO, check=True, capture_output=True, text=True
        ).stdout
    )
    after = REPO / "trainers" / "taxi" / "trainer.py"
    records = []
    for repeat in range(repeats):  # interleaved, so a change of load hits both sides
        records.append(_side(workdir, "before", before, examples, repeat))
        records.append(_side(workdir, "after", after, examples, repeat))
        print(json.dumps(records[-2:]), flush=True)

    def row(label, key, note=None):
        return comparison(
            label,
            ours=of_side(records, "after", key),
            stock=of_side(records, "before", key),
            ours_label="after",
            stock_label="before",
            note=note,
        )

    after_steps = [
        comparison(
            f"{STEPS} steps ({side}): in-memory tensors vs input pipeline",
            ours=of_side(records, side, "memory_steps_s"),
            stock=of_side(records, side, "real_steps_s"),
            ours_label="in memory",
            stock_label="input pipeline",
            note="ratio: input pipeline / in memory (target <= 1.5)",
        )
        for side in ("before", "after")
    ]
    comparisons = [
        row("Trainer stage (run_fn), s", "run_fn_s"),
        row("Trainer process (imports included), s", "process_s"),
        *after_steps,
    ]
    return result(NAME, data=data, repeats=repeats, records=records, comparisons=comparisons, before_commit=BEFORE)
