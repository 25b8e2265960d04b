"""tfxgate: declarative, gated TFX pipelines.

The public facade. Importing it is cheap (no TensorFlow, no pydantic models):
every name below is imported on first use. It also fixes the process
environment TFX 1.16 needs *before* TensorFlow can be imported anywhere:
`TF_USE_LEGACY_KERAS=1`, because TF 2.16 ships Keras 3 while TFX, TFMA and the
Trainer need Keras 2 (`tf_keras`).

The package is layered (see README "Architecture"; `lint-imports` holds it):
`tfxgate.cli` -> `tfxgate.pipelines` -> `tfxgate.components` -> the core library
(`tfxgate.monitoring`, `alerts`, `governance`, `reporting`, `lineage`, `artifacts`, `mlmd`, `drift`, `storage`,
`training`, `settings`). This facade sits beside the layers and only re-exports.
"""

import importlib
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

# Public name -> the module that defines it. Custom artifact types are here by the
# name Kubeflow V2 containers import them with (`tfxgate.<Type>`: their TYPE_NAME).
_EXPORTS = {
    "ConfigError": "tfxgate.pipelines.config.source",
    "PipelineConfig": "tfxgate.pipelines.config.root",
    "load_config": "tfxgate.pipelines.config.root",
    "build_pipeline": "tfxgate.pipelines.build",
    "interactive": "tfxgate.pipelines.interactive",
    "run_local": "tfxgate.pipelines.local",
    "Quarantine": "tfxgate.components.ingest.component",
    "SliceEvaluation": "tfxgate.components.slice_eval.component",
    "DriftReport": "tfxgate.components.drift.component",
    "DriftBlessing": "tfxgate.components.drift.component",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # the next lookup is a plain attribute
        return value
    raise AttributeError(f"module 'tfxgate' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
