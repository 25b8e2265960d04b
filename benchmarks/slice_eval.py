"""Benchmark: SliceEval (fast and beam engines) vs the stock TFX Evaluator on the same examples, model and slices.

    python -m benchmarks.slice_eval [--rows 200000] [--repeat 3] [--workdir DIR]

One tfxgate pipeline run (train steps kept small) produces the examples and the
model; then, in this one process, the stock Evaluator's executor and SliceEval's
executor with each engine (`fast`: in process; `beam`: TFMA on Beam) evaluate
that model on that eval split with the equivalent config (same slices — features
and crosses, 20+ slices — same metrics, same Beam args), timed the same way,
`--repeat` times each, interleaved (the first executor in the process also pays
TFMA's one-off warm-up; the median leaves it out). Checks that both engines
reported the same metrics (within 1e-6) and the same blessing. Prints each
side's median, min and max and the ratio of the medians, and writes
`benchmarks/results/slice_eval.json` for `benchmarks/tables.py`.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # before any TF import (TFX/TFMA need Keras 2)

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from benchmarks.data import count_rows, taxi_data  # noqa: E402
from benchmarks.repeats import REPEATS, comparison  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SLICES = "[[], [payment_type], [trip_start_day], [trip_start_month], [payment_type, trip_start_day]]"


def overrides(data: Path, root: Path) -> list[str]:
    return [
        f"data.path={data}",
        f"pipeline.root={root}",
        f"stages.push.root={root / 'serving'}",
        "stages.trainer.train_steps=100",
        "stages.trainer.eval_steps=10",
        f"stages.evaluation.slices={SLICES}",
        "stages.evaluation.max_gap=[]",
    ]


def _artifacts(root: Path):
    from tfx.types import artifact_utils, standard_artifacts

    examples = standard_artifacts.Examples()
    [examples.uri] = [str(p) for p in sorted((root / "artifacts/Ingest/examples").iterdir())]
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    model = standard_artifacts.Model()
    [model.uri] = [str(p) for p in sorted((root / "artifacts/Trainer/model").iterdir())]
    return examples, model


def _timed(label: str, fn) -> float:
    began = time.monotonic()
    fn()
    seconds = time.monotonic() - began
    print(f"  {label}: {seconds:.1f} s", flush=True)
    return seconds


def _parity(fast_dir: Path, beam_dir: Path) -> str:
    """Whether both engines reported the same metrics (within 1e-6) and the same blessing, in words."""
    import math

    def values(folder: Path) -> dict:
        data = json.loads((folder / "evaluation/report.json").read_text())
        cells = {(r["slice"], m): v["value"] for r in data["slices"] for m, v in r["metrics"].items()}
        return {"blessed": data["blessed"], "cells": cells}

    fast, beam = values(fast_dir), values(beam_dir)
    worst = max(
        (abs(a - b) for k, a in fast["cells"].items() if (b := beam["cells"].get(k)) is not None and a is not None),
        default=math.nan,
    )
    same = fast["blessed"] == beam["blessed"] and set(fast["cells"]) == set(beam["cells"]) and worst <= 1e-6
    return f"engines at parity: {same} (largest difference {worst:.1e}, {len(fast['cells'])} slice x metric cells)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.slice_eval")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--repeat", type=int, default=REPEATS, help="runs per side (default: %(default)s)")
    parser.add_argument("--note", help="said in the table's header, e.g. 'machine shared with other work'")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-slice-eval-"))
    workdir.mkdir(parents=True, exist_ok=True)
    data = taxi_data(workdir, rows=args.rows)
    root = workdir / "root"
    sets = [item for o in overrides(data, root) for item in ("--set", o)]
    print(f"== slice_eval: {args.rows} rows, work dir {workdir}; training the model once ...", flush=True)
    cli = str(Path(sys.executable).parent / "tfxgate")
    subprocess.run([cli, "run", str(REPO / "configs/taxi.yaml"), *sets], check=True, stdout=subprocess.DEVNULL)

    from tfx.components.evaluator import executor as stock_executor
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    from tfxgate.components.slice_eval import executor as ours_executor
    from tfxgate.components.slice_eval.component import SliceEvaluation
    from tfxgate.pipelines.config.root import load_config
    from tfxgate.pipelines.stages import stock_eval_config

    config = load_config(REPO / "configs/taxi.yaml", overrides=overrides(data, root))
    examples, model = _artifacts(root)
    context = BaseBeamExecutor.Context(beam_pipeline_args=config.runner.beam.pipeline_args(), tmp_dir=str(workdir))

    def outputs(name: str, evaluation_type):
        evaluation, blessing = evaluation_type(), standard_artifacts.ModelBlessing()
        evaluation.uri, blessing.uri = str(workdir / name / "evaluation"), str(workdir / name / "blessing")
        return {"evaluation": [evaluation], "blessing": [blessing]}

    def ours_once(name: str, engine: str) -> None:
        ours_executor.Executor(context).Do(
            {"examples": [examples], "model": [model]},
            outputs(name, SliceEvaluation),
            {
                "settings": config.stages.evaluation.model_copy(update={"engine": engine}).model_dump_json(),
                "label": config.data.label,
                "example_split": "eval",
            },
        )

    def stock_once(name: str) -> None:
        stock_executor.Executor(context).Do(
            {"examples": [examples], "model": [model]},
            outputs(name, standard_artifacts.ModelEvaluation),
            {
                "eval_config": proto_utils.proto_to_json(stock_eval_config(config)),
                "example_splits": json.dumps(["eval"]),
            },
        )

    fast, beam_engine, stock = [], [], []
    for repeat in range(args.repeat):
        fast.append(_timed(f"SliceEval fast #{repeat}", functools.partial(ours_once, f"fast-{repeat}", "fast")))
        stock.append(_timed(f"stock Evaluator #{repeat}", functools.partial(stock_once, f"stock-{repeat}")))
        beam_engine.append(_timed(f"SliceEval beam #{repeat}", functools.partial(ours_once, f"beam-{repeat}", "beam")))
    report = json.loads((workdir / "fast-0/evaluation/report.json").read_text())
    parity = _parity(workdir / "fast-0", workdir / "beam-0")
    print(f"  slices: {len(report['slices'])} (SliceEval), rows: {args.rows}; {parity}")
    from benchmarks.run import machine
    from benchmarks.tables import render

    result = {
        "benchmark": "slice_eval",
        "data": str(data),
        "rows": count_rows(data),
        "repeats": args.repeat,
        "comparisons": [
            comparison(
                "evaluation s, fast engine (default)",
                ours=fast,
                stock=stock,
                ours_label="SliceEval fast",
                stock_label="Evaluator",
                note=f"{len(report['slices'])} slices, evaluated on the eval split; {parity}",
            ),
            comparison(
                "evaluation s, beam engine (TFMA on Beam)",
                ours=beam_engine,
                stock=stock,
                ours_label="SliceEval beam",
                stock_label="Evaluator",
            ),
        ],
        "machine": machine(load_before=load_before, note=args.note),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "slice_eval.json").write_text(json.dumps(result, indent=2) + "\n")
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
