"""One side of the `trainer_overhead` benchmark, in its own process: `python -m benchmarks.trainer_side SPEC.json`.

Runs the trainer module's `run_fn` on the examples (the Trainer stage's work:
the executor around it is the same on both sides), then times training steps
of a fresh model on the module's real input pipeline against the same steps
on batches held in memory as tensors. Prints one JSON line.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import types


def _module(path: str):
    spec = importlib.util.spec_from_file_location("benchmarked_trainer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fit_seconds(model, data, steps: int) -> float:
    model.fit(data, steps_per_epoch=5, epochs=1, verbose=0)  # tracing and the pipeline's start-up, untimed
    began = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return time.perf_counter() - began


def main(spec_path: str) -> None:
    spec = json.loads(open(spec_path).read())
    began = time.perf_counter()
    import tensorflow as tf

    imported = time.perf_counter() - began
    trainer = _module(spec["module_file"])
    hp = {"batch_size": 128, "learning_rate": 0.01, "hidden_units": [32, 16]}
    fn_args = types.SimpleNamespace(
        train_files=[spec["train"]],
        eval_files=[spec["eval"]],
        train_steps=spec["steps"],
        eval_steps=spec["eval_steps"],
        custom_config=hp,
        serving_model_dir=spec["out"] + "/serving",
        model_run_dir=spec["out"] + "/model_run",
        schema_path=None,
    )
    began = time.perf_counter()
    trainer.run_fn(fn_args)
    run_fn = time.perf_counter() - began

    # Training steps: the module's own input pipeline vs its batches already in memory.
    if hasattr(trainer, "_dataset"):  # the trainer before tfxgate.training.inputs
        real = trainer._dataset(fn_args.train_files, 128, shuffle=True)
    else:
        from tfxgate.training import inputs

        real = inputs.example_batches(fn_args.train_files, trainer._to_xy, batch_size=128, shuffle=True)
    batches = list(real.take(20))
    memory = tf.data.Dataset.from_tensor_slices(
        (tf.stack([x for x, _ in batches]), tf.stack([y for _, y in batches]))
    ).repeat()
    model = trainer._model(int(real.element_spec[0].shape[-1]), [32, 16], 0.01)
    steps = spec["steps"]
    result = {
        "import_s": imported,
        "run_fn_s": run_fn,
        "real_steps_s": _fit_seconds(model, real, steps),
        "memory_steps_s": _fit_seconds(model, memory, steps),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
