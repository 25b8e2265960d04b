"""`stages.drift` in the pipeline YAML: what loads, and each promised error with its key and line."""

from __future__ import annotations

import pytest

from tests.test_config import MINIMAL, TAXI, write_config
from tfxgate.pipelines.config.root import ConfigError, load_config


def with_drift(tmp_path, drift: str, *, extra: str = ""):
    text = MINIMAL.replace("  push:\n", f"  drift:\n{drift}  push:\n") + extra
    return write_config(tmp_path, text)


def test_taxi_config_enables_drift_with_policy_block():
    drift = load_config(TAXI).stages.drift
    assert drift.enabled and drift.policy == "block"
    assert drift.merged_thresholds()["ks"] == 0.1


def test_thresholds_overrides_and_serving_source_load(tmp_path):
    (tmp_path / "serving.csv").write_text("a,b\n1,2\n")
    path = with_drift(
        tmp_path,
        "    enabled: true\n    thresholds: {ks: 0.2}\n    features: {a: {psi: 0.5}}\n    serving: serving.csv\n",
    )
    drift = load_config(path).stages.drift
    assert drift.merged_thresholds()["ks"] == 0.2 and drift.merged_thresholds()["psi"] == 0.2
    assert drift.features == {"a": {"psi": 0.5}}
    assert drift.serving == str(tmp_path / "serving.csv")


def test_serving_source_that_does_not_exist_is_named(tmp_path):
    path = with_drift(tmp_path, "    enabled: true\n    serving: nowhere/serving.csv\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "stages.drift.serving (line 14): serving data source not found" in str(err.value)
    assert str(tmp_path / "nowhere" / "serving.csv") in str(err.value)


def test_threshold_for_a_feature_not_in_the_data_is_named(tmp_path):
    path = with_drift(tmp_path, "    enabled: true\n    features:\n      fare: {ks: 0.2}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "stages.drift.features.fare (line 15): feature 'fare' is not in the header of" in str(err.value)


def test_threshold_for_a_feature_not_in_the_schema_is_named(tmp_path):
    (tmp_path / "schema.pbtxt").write_text('feature {\n  name: "a"\n  type: INT\n}\n')
    path = with_drift(tmp_path, "    features:\n      b: {ks: 0.2}\n", extra="schema: schema.pbtxt\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "stages.drift.features.b (line 14): feature 'b' is not in the schema" in str(err.value)


def test_schema_that_does_not_parse_names_file_and_line(tmp_path):
    (tmp_path / "schema.pbtxt").write_text('feature {\n  name: "a"\n  typo: 3\n}\n')
    path = write_config(tmp_path, MINIMAL + "schema: schema.pbtxt\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert f"schema (line 14): {tmp_path / 'schema.pbtxt'} does not parse as a TFDV schema: line 3:" in message
    assert 'no field named "typo"' in message


@pytest.mark.parametrize(
    "drift, expected",
    [
        ("    thresholds: {kss: 0.1}\n", "stages.drift.thresholds (line 13): kss: unknown measure"),
        ("    thresholds: {ks: -1}\n", "ks: threshold must be a finite number >= 0, got -1.0"),
        ("    features: {a: {jsd: 0.2}}\n", "a.jsd: set TFDV's jsd per feature in the schema"),
        ("    policy: stop\n", "stages.drift.policy (line 13): Input should be 'block', 'warn' or 'retrain'"),
        ("    significance: 0\n", "stages.drift.significance (line 13): Input should be greater than 0"),
        ("    significance: 1.5\n", "stages.drift.significance (line 13): Input should be less than or equal to 1"),
    ],
)
def test_bad_drift_settings_are_refused_with_their_key(tmp_path, drift, expected):
    with pytest.raises(ConfigError) as err:
        load_config(with_drift(tmp_path, drift))
    assert expected in str(err.value)
