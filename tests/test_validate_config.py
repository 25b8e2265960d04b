"""`stages.validation` in the pipeline YAML: what loads, and each promised error with its key and line."""

from __future__ import annotations

import pytest

from tests.test_config import MINIMAL, TAXI, write_config
from tfxgate.pipelines.config.root import ConfigError, load_config


def with_validation(tmp_path, validation: str, *, extra: str = ""):
    text = MINIMAL.replace("  push:\n", f"  validation:\n{validation}  push:\n") + extra
    return write_config(tmp_path, text)


def message_of(path) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return str(err.value)


def test_taxi_config_checks_training_data_in_the_training_environment():
    validation = load_config(TAXI).stages.validation
    assert validation.enabled and validation.environment == "TRAINING" and validation.default == "fail"


def test_policies_per_kind_and_per_feature_load(tmp_path):
    path = with_validation(
        tmp_path,
        "    default: warn\n    anomalies: {ENUM_TYPE_UNEXPECTED_STRING_VALUES: ignore}\n"
        "    features:\n      a: {FEATURE_TYPE_LOW_FRACTION_PRESENT: fail}\n",
    )
    validation = load_config(path).stages.validation
    assert validation.settings() == {
        "environment": None,
        "default": "warn",
        "anomalies": {"ENUM_TYPE_UNEXPECTED_STRING_VALUES": "ignore"},
        "features": {"a": {"FEATURE_TYPE_LOW_FRACTION_PRESENT": "fail"}},
    }


def test_unknown_anomaly_kind_is_named_with_the_nearest_kinds(tmp_path):
    path = with_validation(tmp_path, "    anomalies:\n      ENUM_TYPE_UNEXPECTED_STRING_VALUE: warn\n")
    message = message_of(path)
    assert "stages.validation.anomalies (line 13): " in message
    assert "unknown anomaly kind 'ENUM_TYPE_UNEXPECTED_STRING_VALUE'" in message
    assert "did you mean ENUM_TYPE_UNEXPECTED_STRING_VALUES" in message


def test_unknown_kind_in_a_feature_override_is_named(tmp_path):
    path = with_validation(tmp_path, "    features:\n      a: {NOT_A_KIND: fail}\n")
    assert "a.NOT_A_KIND: unknown anomaly kind 'NOT_A_KIND'" in message_of(path)


def test_unknown_policy_is_refused(tmp_path):
    path = with_validation(tmp_path, "    default: block\n")
    message = message_of(path)
    assert "stages.validation.default (line 13): " in message and "'fail', 'warn' or 'ignore'" in message


def test_feature_policy_for_a_feature_not_in_the_data_is_named(tmp_path):
    path = with_validation(tmp_path, "    features:\n      fare: {FEATURE_TYPE_LOW_FRACTION_PRESENT: warn}\n")
    assert "stages.validation.features.fare (line 14): feature 'fare' is not in the header of" in message_of(path)


def test_feature_policy_for_a_feature_not_in_the_schema_is_named(tmp_path):
    (tmp_path / "schema.pbtxt").write_text('feature {\n  name: "a"\n  type: INT\n}\n')
    path = with_validation(
        tmp_path, "    features:\n      b: {SCHEMA_NEW_COLUMN: warn}\n", extra="schema: schema.pbtxt\n"
    )
    assert "stages.validation.features.b (line 14): feature 'b' is not in the schema" in message_of(path)


def test_environment_the_schema_does_not_declare_is_named(tmp_path):
    (tmp_path / "schema.pbtxt").write_text(
        'default_environment: "TRAINING"\ndefault_environment: "SERVING"\nfeature {\n  name: "a"\n  type: INT\n}\n'
    )
    path = with_validation(tmp_path, "    environment: TRAINNG\n", extra="schema: schema.pbtxt\n")
    message = message_of(path)
    assert "stages.validation.environment (line 13): environment 'TRAINNG' is not declared in the schema" in message
    assert "(declared: TRAINING, SERVING)" in message


def test_schema_that_does_not_parse_names_file_and_line(tmp_path):
    (tmp_path / "schema.pbtxt").write_text('feature {\n  name: "a"\n  type: INTT\n}\n')
    message = message_of(with_validation(tmp_path, "    enabled: true\n", extra="schema: schema.pbtxt\n"))
    assert f"{tmp_path / 'schema.pbtxt'} does not parse as a TFDV schema: line 3:" in message
