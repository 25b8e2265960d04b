"""The serving configs a rollout writes parse with their own protos/schemas; the `rollout:` config keys load typed.

TF Serving's config is parsed strictly (`text_format.Parse`, unknown fields
refused) into `ModelServerConfig` from `tensorflow-serving-api`. The KServe
manifest is validated with jsonschema against the InferenceService v1beta1
schema generated from KServe's own SDK models (tests/regen_kserve_schema.py,
vendored in tests/testdata/kserve/).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from tests.test_config import problems, write_config
from tests.test_governed_push_config import push
from tfxgate.governance import serving_configs
from tfxgate.governance.rollout_state import RolloutPolicy, RolloutState
from tfxgate.pipelines.config.root import load_config

SCHEMA = json.loads(
    (Path(__file__).parent / "testdata" / "kserve" / "inferenceservice-v1beta1.schema.json").read_text()
)
CANARY = RolloutState(kind="canary", stable="3", candidate="4", weight=10, model_name="taxi", namespace="ml")
STABLE_ONLY = RolloutState(kind="canary", stable="4", weight=10)


def parsed_tf_serving(state: RolloutState, destination: Path) -> model_server_config_pb2.ModelServerConfig:
    text = serving_configs.rendered(state, destination)[serving_configs.TF_SERVING]
    return text_format.Parse(text, model_server_config_pb2.ModelServerConfig())


def kserve_errors(manifest: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]


def test_tf_serving_config_parses_with_the_serving_proto(tmp_path):
    [model] = parsed_tf_serving(CANARY, tmp_path / "production").model_config_list.config
    assert (model.name, model.base_path, model.model_platform) == ("taxi", str(tmp_path / "production"), "tensorflow")
    assert list(model.model_version_policy.specific.versions) == [3, 4]
    assert dict(model.version_labels) == {"stable": 3, "canary": 4}
    [model] = parsed_tf_serving(STABLE_ONLY, tmp_path / "production").model_config_list.config
    assert model.name == "production", "no model_name: the destination's"
    assert list(model.model_version_policy.specific.versions) == [4] and dict(model.version_labels) == {"stable": 4}


def test_a_wrong_tf_serving_field_does_not_parse():
    """The check can fail: the proto refuses what TF Serving would refuse."""
    with pytest.raises(text_format.ParseError, match="version_label"):
        text_format.Parse(
            'model_config_list { config { name: "m" version_label { key: "canary" value: 4 } } }',
            model_server_config_pb2.ModelServerConfig(),
        )


def test_kserve_manifest_is_a_valid_inference_service(tmp_path):
    manifest = yaml.safe_load(serving_configs.rendered(CANARY, tmp_path / "production")[serving_configs.KSERVE])
    assert kserve_errors(manifest) == []
    assert (manifest["apiVersion"], manifest["kind"]) == ("serving.kserve.io/v1beta1", "InferenceService")
    assert manifest["metadata"]["name"] == "taxi" and manifest["metadata"]["namespace"] == "ml"
    predictor = manifest["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 10
    assert predictor["model"] == {
        "modelFormat": {"name": "tensorflow"},
        "storageUri": f"{tmp_path / 'production'}/4",
    }
    stable = yaml.safe_load(serving_configs.kserve_yaml(STABLE_ONLY, "gs://bucket/serving/production"))
    assert kserve_errors(stable) == []
    assert "canaryTrafficPercent" not in stable["spec"]["predictor"]
    assert stable["spec"]["predictor"]["model"]["storageUri"] == "gs://bucket/serving/production/4"


def test_the_kserve_schema_refuses_a_misspelled_or_mistyped_field(tmp_path):
    manifest = serving_configs.kserve(CANARY, tmp_path)
    manifest["spec"]["predictor"]["canaryTrafficPercentage"] = 10
    manifest["spec"]["predictor"]["canaryTrafficPercent"] = "10"
    found = kserve_errors(manifest)
    assert any("canaryTrafficPercentage" in e and "not allowed" in e for e in found), found
    assert any(e.startswith("spec/predictor/canaryTrafficPercent: '10' is not of type 'integer'") for e in found), found
    del manifest["spec"]["predictor"]["model"]["modelFormat"]
    assert any("'modelFormat' is a required property" in e for e in kserve_errors(manifest))


def test_rollout_config_loads_typed(tmp_path):
    config = load_config(
        write_config(
            tmp_path,
            push(
                "      staging: {path: staging}\n"
                "      production: {path: production, rollout: {kind: canary, weight: 25, model_name: taxi}}\n"
                "      green: {path: green, rollout: {kind: blue_green}}\n"
                "      canary: {path: canary, rollout: {kind: canary}}\n"
            ),
        )
    )
    policies = {name: d.rollout for name, d in config.governed().destinations.items()}
    assert policies["staging"] == RolloutPolicy()  # direct: today's behaviour
    assert policies["production"] == RolloutPolicy(kind="canary", weight=25, model_name="taxi")
    assert policies["green"] == RolloutPolicy(kind="blue_green", weight=100)
    assert policies["canary"] == RolloutPolicy(kind="canary", weight=10)


@pytest.mark.parametrize(
    "rollout, key, expected",
    [
        ("{kind: canary, weight: 0}", "rollout.weight", "greater than or equal to 1"),
        ("{kind: canary, weight: 101}", "rollout.weight", "less than or equal to 100"),
        ("{kind: blue_green, weight: 50}", "rollout", "blue_green moves all traffic at once: weight must be 100"),
        ("{kind: direct, weight: 10}", "rollout", "weight is for kind canary or blue_green"),
        ("{kind: gradual}", "rollout.kind", "'direct', 'canary' or 'blue_green'"),
        ("{kind: canary, model_name: Taxi_Model}", "rollout.model_name", "should match pattern"),
        (
            "{kind: canary, wieght: 10}",
            "rollout.wieght",
            "unknown key (not part of the tfxgate config; check the spelling)",
        ),
    ],
)
def test_a_wrong_rollout_is_refused_naming_its_key(tmp_path, rollout, key, expected):
    found = problems(write_config(tmp_path, push(f"      production: {{path: production, rollout: {rollout}}}\n")))
    assert [(k, expected in m) for k, _, m in found] == [(f"stages.push.destinations.production.{key}", True)], found
