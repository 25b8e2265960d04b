"""Anomaly policy on real TFDV anomalies: fail stops with feature, kind and value; warn/ignore do not."""

from __future__ import annotations

import pyarrow as pa
import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from tfxgate.components.validate.anomalies import AnomaliesFailed, classify, enforce
from tfxgate.components.validate.statistics import statistics_from_arrow

SCHEMA = """
feature { name: "payment" type: BYTES domain: "payment" presence { min_fraction: 1.0 } }
feature { name: "fare" type: FLOAT presence { min_fraction: 1.0 } }
string_domain { name: "payment" value: "Cash" value: "Credit Card" }
"""


@pytest.fixture(scope="module")
def anomalies():
    import tensorflow_data_validation as tfdv

    table = pa.table({"payment": ["Cash", "Dispute", "Cash", "Credit Card"], "fare": [1.0, None, 3.0, 4.0]})
    schema = text_format.Parse(SCHEMA, schema_pb2.Schema())
    return tfdv.validate_statistics(statistics_from_arrow(table), schema)


def test_tfdv_finds_the_anomalies_in_our_statistics(anomalies):
    kinds = {(f.feature, f.kind) for f in classify(anomalies, policy={})}
    assert ("payment", "ENUM_TYPE_UNEXPECTED_STRING_VALUES") in kinds
    assert any(feature == "fare" for feature, _ in kinds)


def test_fail_lists_feature_kind_and_offending_value(anomalies):
    with pytest.raises(AnomaliesFailed) as err:
        enforce(classify(anomalies, policy={}), split="train")
    message = str(err.value)
    assert "in split 'train' against the schema (policy fail); stopping before training" in message
    assert "payment: ENUM_TYPE_UNEXPECTED_STRING_VALUES: " in message and "Dispute" in message
    assert "  - fare: " in message


def test_warn_and_ignore_let_the_run_go_on(anomalies):
    findings = classify(anomalies, policy={}, default="ignore")
    assert enforce(findings, split="train") == []
    kinds = {f.kind for f in findings}
    warned = enforce(classify(anomalies, policy={k: "warn" for k in kinds}), split="train")
    assert {f.feature for f in warned} == {"payment", "fare"}


def test_unknown_kind_in_policy_is_refused(anomalies):
    with pytest.raises(ValueError, match=r"unknown anomaly kinds \['NEW_VALUES'\]"):
        classify(anomalies, policy={"NEW_VALUES": "warn"})


def test_per_feature_policy_wins_over_the_kind_policy(anomalies):
    findings = classify(
        anomalies,
        policy={"ENUM_TYPE_UNEXPECTED_STRING_VALUES": "fail"},
        default="warn",
        features={"payment": {"ENUM_TYPE_UNEXPECTED_STRING_VALUES": "ignore"}},
        split="eval",
    )
    actions = {(f.feature, f.kind): f.action for f in findings}
    assert actions[("payment", "ENUM_TYPE_UNEXPECTED_STRING_VALUES")] == "ignore"
    assert {f.action for f in findings if f.feature == "fare"} == {"warn"}
    assert all(f.to_dict()["split"] == "eval" for f in findings)


ENVIRONMENTS = """
default_environment: "TRAINING"
default_environment: "SERVING"
feature { name: "trips" type: INT int_domain { min: 0 max: 10 } presence { min_fraction: 1.0 } }
feature { name: "tips" type: FLOAT not_in_environment: "SERVING" presence { min_fraction: 1.0 } }
"""


def validate(table, *, environment):
    import tensorflow_data_validation as tfdv

    schema = text_format.Parse(ENVIRONMENTS, schema_pb2.Schema())
    found = tfdv.validate_statistics(statistics_from_arrow(table), schema, environment=environment)
    return classify(found, policy={}, split="train")


def test_label_is_required_in_training_but_not_in_serving():
    serving = pa.table({"trips": [1, 2, 3]})
    assert validate(serving, environment="SERVING") == []
    [missing] = validate(serving, environment="TRAINING")
    assert (missing.feature, missing.kind) == ("tips", "SCHEMA_MISSING_COLUMN")


def test_value_outside_the_feature_domain_names_the_value():
    with pytest.raises(AnomaliesFailed) as err:
        enforce(validate(pa.table({"trips": [1, 2, 42], "tips": [0.5, 1.0, 0.0]}), environment="TRAINING"))
    message = str(err.value)
    assert message.startswith("1 anomaly in split 'train' against the schema (policy fail)")
    assert "trips: INT_TYPE_BIG_INT: " in message and "42" in message
