"""Compile time per config for Kubeflow: `python -m benchmarks.compile_time [CONFIG ...] [--repeat N]`.

For every config (default: all of configs/), times `compile_kubeflow` (tfxgate:
build + TFX's KubeflowV2DagRunner + the kubeflow: settings + writing the YAML)
against the stock path on the same built pipeline (the bare runner writing its
JSON), in one process after a warm-up, and prints both and the ratio. Import
time of TFX is printed separately: it is paid once per `tfxgate compile`.
Target: < 5 s per config.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs="*", type=Path, default=sorted((REPO / "configs").glob("*.yaml")))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    began = time.perf_counter()
    from tfx import v1 as tfx

    from tfxgate.pipelines.build import build_pipeline
    from tfxgate.pipelines.config.root import load_config
    from tfxgate.pipelines.kubeflow.compile import compile_kubeflow

    print(f"import TFX + tfxgate: {time.perf_counter() - began:.1f} s (once per command)")
    print(f"{'config':20} {'tfxgate s: median (min-max)':>28} {'stock s: median (min-max)':>28} {'tfxgate/stock':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.configs:
            config = load_config(path, overrides=[f"kubeflow.pipeline_root={tmp}/root"])
            ours, stock = [], []
            for i in range(args.repeat + 1):  # the first round warms caches and is dropped
                t0 = time.perf_counter()
                compile_kubeflow(config, Path(tmp) / f"{path.stem}.yaml")
                t1 = time.perf_counter()
                runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
                    config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(use_pipeline_spec_2_1=True),
                    output_dir=tmp,
                    output_filename=f"{path.stem}-stock.json",
                )
                runner.run(build_pipeline(config, target="kubeflow"))
                t2 = time.perf_counter()
                if i:
                    ours.append(t1 - t0)
                    stock.append(t2 - t1)
            a, b = statistics.median(ours), statistics.median(stock)
            mine = f"{a:.2f} ({min(ours):.2f}-{max(ours):.2f})"
            theirs = f"{b:.2f} ({min(stock):.2f}-{max(stock):.2f})"
            print(f"{path.stem:20} {mine:>28} {theirs:>28} {a / b:13.2f}")


if __name__ == "__main__":
    main()
