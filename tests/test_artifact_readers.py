"""The artifact readers and the one "blessed" rule, on real payload files (no Beam, no TFX run)."""

from __future__ import annotations

import json

from tensorflow_metadata.proto.v0 import anomalies_pb2

from tfxgate.artifacts import anomalies, drift_report
from tfxgate.artifacts.blessing import is_blessed, validation_passed


def _anomalies_dir(tmp_path, found: dict[str, list[str]]):
    for split, features in found.items():
        proto = anomalies_pb2.Anomalies()
        for feature in features:
            proto.anomaly_info[feature].short_description = f"{feature} is off"
        (tmp_path / f"Split-{split}").mkdir()
        (tmp_path / f"Split-{split}" / "SchemaDiff.pb").write_bytes(proto.SerializeToString())
    return str(tmp_path)


def test_blessed_is_one_or_one_for_every_split():
    assert is_blessed(1) and not is_blessed(0)
    assert is_blessed({"train": 1.0, "eval": 1.0})
    assert not is_blessed({"train": 1.0, "eval": 0.0})
    assert not is_blessed({})  # a stock ExampleValidator that judged no split blessed nothing


def test_validation_without_blessed_passes_only_when_the_files_list_no_anomaly():
    assert validation_passed(None, 0) is True
    assert validation_passed(None, 2) is False
    assert validation_passed(None, None) is False  # unreadable: failed, as the push gate says
    assert validation_passed(0, 0) is False  # the property wins over the files


def test_anomalies_per_split_count_and_lines(tmp_path):
    uri = _anomalies_dir(tmp_path, {"train": ["fare", "company"], "eval": []})
    assert anomalies.count(uri) == 2
    assert anomalies.lines(uri) == {"eval": [], "train": ["company: company is off", "fare: fare is off"]}
    assert anomalies.count(str(tmp_path / "missing")) is None


def test_drift_comparisons_name_the_fired_measures_and_the_worst_feature(tmp_path):
    document = {
        "policy": "block",
        "reports": [
            {
                "kind": "drift",
                "baseline": "span 1",
                "current": "span 2",
                "features": [
                    {"feature": "fare", "values": {"psi": 0.4}, "thresholds": {"psi": 0.2}, "fired": ["psi"]},
                    {"feature": "tips", "values": {"psi": 0.1}, "thresholds": {"psi": 0.2}, "fired": []},
                ],
            }
        ],
    }
    (tmp_path / drift_report.DRIFT_REPORT_JSON).write_text(json.dumps(document))
    [comparison] = drift_report.comparisons(drift_report.read(str(tmp_path)))
    assert comparison["drifted"] == [{"feature": "fare", "fired": {"psi": [0.4, 0.2]}}]
    assert comparison["features_compared"] == 2 and comparison["worst"]["feature"] == "fare"
    assert drift_report.read(str(tmp_path / "gone")) is None


def test_a_blocked_drift_report_is_kept_beside_the_component_outputs():
    kept = drift_report.kept_dir("/root/artifacts/DataDrift/drift_report/12/")
    assert kept == "/root/artifacts/DataDrift/blocked/12"


def test_schema_and_anomalies_are_read_from_a_gs_artifact_root(gcs_server, tmp_path):
    """On Kubeflow, Validate and DataDrift read the schema artifact (and GovernedPush a stock ExampleValidator's
    anomalies) from the pipeline root: a `gs://` URI, not a local path."""
    from tfxgate.artifacts.schema import read_schema, schema_features
    from tfxgate.storage import filesystem

    root = f"{gcs_server.new_bucket('readers')}/root"
    filesystem.write_text(f"{root}/ImportSchemaGen/schema/3/schema.pbtxt", 'feature { name: "fare" type: FLOAT }\n')
    assert [f.name for f in read_schema(f"{root}/ImportSchemaGen/schema/3/schema.pbtxt").feature] == ["fare"]
    assert schema_features(f"{root}/ImportSchemaGen/schema/3") == [{"name": "fare", "type": "FLOAT"}]

    local = _anomalies_dir(tmp_path, {"train": ["fare"], "eval": []})
    for split in ("train", "eval"):
        filesystem.upload_file(
            f"{local}/Split-{split}/SchemaDiff.pb", f"{root}/Validate/anomalies/4/Split-{split}/SchemaDiff.pb"
        )
    assert anomalies.by_split(f"{root}/Validate/anomalies/4") == anomalies.by_split(local)
    assert anomalies.count(f"{root}/Validate/anomalies/4") == 1
