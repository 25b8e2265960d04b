"""The Trainer's executor when `stages.trainer.local_workers` > 1: the `run_fn` as a loopback cluster.

TFX's `GenericExecutor` calls the trainer module's `run_fn` once, in its own
process. This subclass computes the same `FnArgs`, then runs `run_fn` in
`local_workers` fresh processes (a chief and N-1 workers, tfxgate.training.launch)
with TF_CONFIG set, so `MultiWorkerMirroredStrategy` trains across them. The
module must save through `tfxgate.training.cluster.model_dir` (only the chief's
export lands in the model artifact, as on Vertex AI). The pipeline's own process
never configures TensorFlow's collectives: a multi-worker strategy can be set up
once per process, and the stages after the Trainer run in this one.
"""

from __future__ import annotations

import inspect
import logging
import tempfile
from pathlib import Path

from tfx.components.trainer.executor import GenericExecutor
from tfx.components.util import udf_utils
from tfx.dsl.io import fileio
from tfx.types import artifact_utils

from tfxgate.training import launch

log = logging.getLogger(__name__)

# The FnArgs fields a trainer module reads, carried as plain values (data_accessor is rebuilt on use).
FIELDS = (
    "working_dir",
    "train_files",
    "eval_files",
    "train_steps",
    "eval_steps",
    "schema_path",
    "schema_file",
    "transform_graph_path",
    "transform_output",
    "serving_model_dir",
    "eval_model_dir",
    "model_run_dir",
    "base_model",
    "hyperparameters",
    "custom_config",
)


def local_workers(custom_config) -> int:
    """Processes the Trainer trains in (custom_config["distribution"]["local_workers"], default 1)."""
    return int(((custom_config or {}).get("distribution") or {}).get("local_workers", 1))


class LoopbackClusterExecutor(GenericExecutor):
    """`GenericExecutor` whose `run_fn` runs as a chief plus workers on this machine."""

    def Do(self, input_dict, output_dict, exec_properties) -> None:
        fn_args = self._GetFnArgs(input_dict, output_dict, exec_properties)
        processes = local_workers(fn_args.custom_config)
        if processes <= 1:
            return super().Do(input_dict, output_dict, exec_properties)
        run_fn = udf_utils.get_fn(exec_properties, "run_fn")
        spec = {
            "module_file": inspect.getsourcefile(run_fn),
            "function": run_fn.__name__,
            "fn_args": {name: getattr(fn_args, name, None) for name in FIELDS},
            "artifacts": artifact_utils.jsonify_artifact_dict(input_dict),
            "exec_properties": exec_properties,
        }
        log.info("training in %d processes on loopback (a chief and %d worker(s))", processes, processes - 1)
        # Each process's output goes beside its records in model_run (a local folder for a remote one).
        remote = "://" in fn_args.model_run_dir
        log_dir = Path(tempfile.mkdtemp(prefix="tfxgate-trainer-")) if remote else Path(fn_args.model_run_dir)
        done = launch.run_cluster(spec, processes=processes, log_dir=log_dir / "processes")
        if not fileio.exists(fn_args.serving_model_dir):
            raise RuntimeError(
                f"the chief ({done[0].log}) exported no model to {fn_args.serving_model_dir}: the trainer module "
                "must save to tfxgate.training.cluster.model_dir(fn_args.serving_model_dir)"
            )
