"""One process of a loopback training cluster: `python -m tfxgate.training.task SPEC.json`.

`tfxgate.training.launch` writes SPEC.json and sets TF_CONFIG. The spec names
the `run_fn` (its module file and function name), the fields of TFX's `FnArgs`
as plain values, and the Trainer's input artifacts and exec properties, from
which `fn_args.data_accessor` is rebuilt only if the module reads it (that
needs TFX, which the other fields do not).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from typing import Any, Callable


class FnArgs(types.SimpleNamespace):
    """TFX's `FnArgs` fields as attributes; `data_accessor` is built from the artifacts on first use."""

    def __init__(self, fields: dict[str, Any], *, artifacts: str, exec_properties: dict):
        super().__init__(**fields)
        self._artifacts, self._exec_properties = artifacts, exec_properties

    def __getattr__(self, name: str) -> Any:
        if name != "data_accessor":
            raise AttributeError(name)
        from tfx.components.trainer import fn_args_utils
        from tfx.types import artifact_utils

        inputs = artifact_utils.parse_artifact_dict(self._artifacts)
        accessor = fn_args_utils.get_common_fn_args(inputs, self._exec_properties).data_accessor
        self.data_accessor = accessor
        return accessor


def load_function(module_file: str, function: str) -> Callable:
    """`function` of the Python file `module_file` (a trainer module, loaded by path)."""
    spec = importlib.util.spec_from_file_location("tfxgate_trainer_module", module_file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the trainer module {module_file}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function)


def main(spec_path: str) -> None:
    with open(spec_path) as handle:
        spec = json.load(handle)
    sys.path[:0] = [p for p in spec.get("sys_path", []) if p not in sys.path]
    run_fn = load_function(spec["module_file"], spec["function"])
    artifacts, exec_properties = spec.get("artifacts", "{}"), spec.get("exec_properties", {})
    run_fn(FnArgs(spec["fn_args"], artifacts=artifacts, exec_properties=exec_properties))


if __name__ == "__main__":
    main(sys.argv[1])
