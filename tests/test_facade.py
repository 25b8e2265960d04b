"""The public facade: cheap to import, exports what it promises, sets up Keras 2."""

import os
import subprocess
import sys


def test_facade_exports():
    import tfxgate

    assert set(tfxgate.__all__) == {
        "ConfigError",
        "DriftBlessing",
        "DriftReport",
        "PipelineConfig",
        "Quarantine",
        "SliceEvaluation",
        "__version__",
        "build_pipeline",
        "interactive",
        "load_config",
        "run_local",
    }
    for name in tfxgate.__all__:
        assert getattr(tfxgate, name) is not None


def test_import_is_light_and_selects_legacy_keras():
    code = (
        "import sys, os, tfxgate; "
        "print('tensorflow' in sys.modules, 'tfx' in sys.modules, os.environ['TF_USE_LEGACY_KERAS'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["False", "False", "1"]


def test_custom_artifact_types_resolve_by_their_type_name():
    """Kubeflow V2 containers import custom artifact classes from their TYPE_NAME."""
    from tfx.utils import import_utils

    from tfxgate.components.drift.component import DriftBlessing, DriftReport
    from tfxgate.components.ingest.component import Quarantine

    for artifact_type in (Quarantine, DriftReport, DriftBlessing):
        assert import_utils.import_class_by_path(artifact_type.TYPE_NAME) is artifact_type
