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
    "DriftBlessing",
    "DriftReport",
    "Quarantine",
    "SliceEvaluation",
    "PipelineConfig",
    "__version__",
    "build_pipeline",
    "interactive",
    "load_config",
    "run_local",
]


def build_pipeline(config, **kwargs):
    """Builds the TFX pipeline for a loaded config. See `tfxgate.pipelines.build`."""
    from tfxgate.pipelines.build import build_pipeline as _build

    return _build(config, **kwargs)


def interactive(config, **kwargs):
    """A stage-by-stage notebook run of a config's pipeline. See `tfxgate.pipelines.interactive`."""
    from tfxgate.pipelines.interactive import interactive as _interactive

    return _interactive(config, **kwargs)


def run_local(config, **kwargs):
    """Runs a loaded config on the local runner. See `tfxgate.pipelines.local`."""
    from tfxgate.pipelines.local import run_local as _run

    return _run(config, **kwargs)


# Custom artifact types, by the name Kubeflow V2 containers import them with
# (`tfxgate.<Type>`: their TYPE_NAME). Imported lazily: they pull in TFX.
_ARTIFACT_TYPES = {
    "Quarantine": "tfxgate.components.ingest.component",
    "SliceEvaluation": "tfxgate.components.slice_eval.component",
    "DriftReport": "tfxgate.components.drift.component",
    "DriftBlessing": "tfxgate.components.drift.component",
}


def __getattr__(name):
    if name in _ARTIFACT_TYPES:
        import importlib

        return getattr(importlib.import_module(_ARTIFACT_TYPES[name]), name)
    raise AttributeError(f"module 'tfxgate' has no attribute {name!r}")
