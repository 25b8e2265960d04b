"""tfxgate: declarative, gated TFX pipelines.

The public facade. Importing it is cheap (no TensorFlow): the heavy TFX imports
happen only when a pipeline is built or run. It also fixes the process
environment TFX 1.16 needs *before* TensorFlow can be imported anywhere:
`TF_USE_LEGACY_KERAS=1`, because TF 2.16 ships Keras 3 while TFX, TFMA and the
Trainer need Keras 2 (`tf_keras`).
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfxgate.pipelines.config import ConfigError, PipelineConfig, load_config  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "Quarantine",
    "SliceEvaluation",
    "PipelineConfig",
    "__version__",
    "build_pipeline",
    "load_config",
    "run_local",
]


def build_pipeline(config, **kwargs):
    """Builds the TFX pipeline for a loaded config. See `tfxgate.pipelines.build`."""
    from tfxgate.pipelines.build import build_pipeline as _build

    return _build(config, **kwargs)


def run_local(config, **kwargs):
    """Runs a loaded config on the local runner. See `tfxgate.pipelines.local`."""
    from tfxgate.pipelines.local import run_local as _run

    return _run(config, **kwargs)


def __getattr__(name):
    # Artifact classes are imported lazily (they pull in TFX). Kubeflow V2
    # containers find custom artifact types as `tfxgate.<TypeName>`.
    if name == "Quarantine":
        from tfxgate.components.ingest.component import Quarantine

        return Quarantine
    if name == "SliceEvaluation":
        from tfxgate.components.slice_eval.component import SliceEvaluation

        return SliceEvaluation
    raise AttributeError(f"module 'tfxgate' has no attribute {name!r}")
