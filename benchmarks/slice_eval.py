"""Benchmark: SliceEval vs the stock TFX Evaluator on the same examples, model and slices.

    python -m benchmarks.slice_eval [--rows 200000] [--workdir DIR]

One tfxgate pipeline run (train steps kept small) produces the examples and the
model; then, in this one process, the stock Evaluator's executor and SliceEval's
executor each evaluate that model on that eval split with the equivalent config
(same slices — features and crosses, 20+ slices — same metrics, same Beam args),
timed the same way. Prints both times and the ratio stock/ours.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # before any TF import (TFX/TFMA need Keras 2)

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from benchmarks.data import taxi_data  # noqa: E402

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
    [examples.uri] = [str(p) for p in sorted((root / "artifacts/CsvExampleGen/examples").iterdir())]
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.slice_eval")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
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

    # Ours first: the first executor in the process also pays TFMA's one-off warm-up.
    ours = _timed(
        "tfxgate SliceEval",
        lambda: ours_executor.Executor(context).Do(
            {"examples": [examples], "model": [model]},
            outputs("ours", SliceEvaluation),
            {
                "settings": config.stages.evaluation.model_dump_json(),
                "label": config.data.label,
                "example_split": "eval",
            },
        ),
    )
    stock = _timed(
        "stock Evaluator",
        lambda: stock_executor.Executor(context).Do(
            {"examples": [examples], "model": [model]},
            outputs("stock", standard_artifacts.ModelEvaluation),
            {
                "eval_config": proto_utils.proto_to_json(stock_eval_config(config)),
                "example_splits": json.dumps(["eval"]),
            },
        ),
    )
    report = json.loads((workdir / "ours/evaluation/report.json").read_text())
    print(f"  slices: {len(report['slices'])} (SliceEval), rows: {args.rows}")
    print(f"  ratio stock/ours: {stock / ours:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
