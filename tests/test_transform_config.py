"""`stages.transform` is validated at load: the module and its preprocessing_fn, the splits, the stage's name.

No TFX import: `tfxgate check` stays fast. The run itself is tests/test_e2e_transform.py.
"""

from __future__ import annotations

import pytest

from tests.conftest import REPO, TAXI_CONFIG, TAXI_TRANSFORM_CONFIG
from tfxgate.pipelines.config.root import ConfigError, load_config
from tfxgate.pipelines.stage_ids import container_stages, stage_ids


def _problems(path, overrides) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides=overrides)
    return {key: message for key, _, message in caught.value.problems}


def test_the_demo_config_places_transform_after_validation():
    config = load_config(TAXI_TRANSFORM_CONFIG)
    stage = config.stages.transform  # `../trainers/...` in the YAML: relative to the YAML's folder
    assert stage.enabled and str(stage.module_file) == str(REPO / "trainers/taxi_preprocessing/preprocessing.py")
    ids = stage_ids(config)
    assert ids[: ids.index("Trainer")] == [
        "Ingest",
        "ImportSchemaGen",
        "Validate",
        "Transform",
        "previous_span_resolver",
        "pushed_span_resolver",
        "DataDrift",
    ]
    assert "Transform" in container_stages(config)
    assert config.kubeflow.resources_for("Transform").cpu == 2


def test_module_without_preprocessing_fn_is_refused_with_key_and_file(tmp_path):
    module = tmp_path / "prep.py"
    module.write_text("def preprocess(inputs):\n    return inputs\n")
    problems = _problems(TAXI_TRANSFORM_CONFIG, [f"stages.transform.module_file={module}"])
    message = problems["stages.transform.module_file"]
    assert f"{module} defines no top-level preprocessing_fn" in message


def test_preprocessing_fn_without_argument_and_a_missing_file_are_named(tmp_path):
    module = tmp_path / "prep.py"
    module.write_text("import tensorflow\n\n\ndef preprocessing_fn():\n    return {}\n")
    message = _problems(TAXI_TRANSFORM_CONFIG, [f"stages.transform.module_file={module}"])[
        "stages.transform.module_file"
    ]
    assert f"{module}: line 4: preprocessing_fn takes no argument" in message
    gone = _problems(TAXI_TRANSFORM_CONFIG, [f"stages.transform.module_file={tmp_path / 'gone.py'}"])
    assert "file not found" in gone["stages.transform.module_file"]


def test_enabled_without_module_and_unknown_splits_are_refused():
    problems = _problems(TAXI_CONFIG, ["stages.transform.enabled=true"])
    assert "module_file is required when enabled" in problems["stages.transform"]
    problems = _problems(TAXI_TRANSFORM_CONFIG, ["stages.transform.analyze_splits=[train, test]"])
    assert problems["stages.transform.analyze_splits"].startswith(
        "split 'test' is not in data.splits (['eval', 'train'])"
    )


def test_transform_resources_follow_the_stage():
    """Named by a config without a transform: refused; by one whose transform is switched off: unused, not refused."""
    problems = _problems(TAXI_CONFIG, ["kubeflow.resources.Transform={cpu: 2}"])
    assert "Transform" in problems["kubeflow.resources.Transform"]
    config = load_config(TAXI_TRANSFORM_CONFIG, overrides=["stages.transform.enabled=false"])
    assert "Transform" not in stage_ids(config)
