"""Paths with a scheme in the config: kept as URIs (never resolved against the YAML's folder); refused at `check`
where they cannot work, naming the key and the scheme."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfxgate.cli.main import main
from tfxgate.pipelines.config.root import load_config
from tfxgate.storage import filesystem
from tfxgate.storage.filesystem import RemotePath

GOOD = Path(__file__).parent / "testdata" / "good_pipeline" / "pipeline.yaml"


def check(capsys, sets: list[str]) -> tuple[int, str]:
    code = main(["check", str(GOOD), *[arg for item in sets for arg in ("--set", item)]])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_gs_push_root_stays_a_uri():
    config = load_config(GOOD, overrides=["stages.push.root=gs://bucket/serving"])
    assert str(config.stages.push.root) == "gs://bucket/serving"
    governed = config.governed()
    assert governed.push_root == RemotePath("gs://bucket/serving")
    [(name, destination)] = list(governed.destinations.items())[:1]
    path = config.stages.push.destinations[name].path
    expected = "gs://bucket/serving" + ("" if path == "." else f"/{path}")
    assert str(destination.directory) == expected


def test_root_option_keeps_a_remote_push_root(tmp_path):
    config = load_config(GOOD, overrides=["stages.push.root=s3://bucket/serving"], root=tmp_path)
    assert str(config.stages.push.root) == "s3://bucket/serving" and config.pipeline.root == tmp_path.resolve()


def test_a_remote_data_path_splits_into_base_and_pattern():
    config = load_config(GOOD, overrides=["data.path=gs://bucket/taxi/span-{SPAN}/*.csv"])
    assert (str(config.data.input_base), config.data.input_pattern) == ("gs://bucket/taxi", "span-{SPAN}/*.csv")


@pytest.mark.parametrize(
    ("key", "value", "scheme"),
    [
        ("stages.push.root", "hdfs://namenode/serving", "hdfs"),
        ("pipeline.root", "s3://bucket/root", "s3"),
        ("pipeline.root", "gs://bucket/root", "gs"),
        ("pipeline.root", "minio://bucket/root", "minio"),
        ("data.path", "http://example.com/taxi.csv", "http"),
        ("metadata.path", "gs://bucket/metadata.sqlite", "gs"),
    ],
)
def test_check_refuses_a_scheme_that_cannot_work_naming_the_key(capsys, key, value, scheme):
    code, output = check(capsys, [f"{key}={value}"])
    assert code == 2, output
    assert f"{key}: the scheme {scheme}:// is not supported here" in output


def test_a_remote_schema_file_is_refused_naming_the_key(capsys):
    code, output = check(capsys, ["schema=gs://bucket/schema.pbtxt"])
    assert code == 2 and "schema" in output and "must be a local file, not gs://" in output


def test_gs_and_s3_pass_check_where_they_work(capsys):
    code, output = check(capsys, ["stages.push.root=s3://bucket/serving", "data.path=gs://bucket/taxi/data.csv"])
    assert code == 0, output


def test_a_remote_pipeline_root_is_refused_saying_where_a_cluster_root_goes(capsys):
    code, output = check(capsys, ["pipeline.root=gs://bucket/root"])
    assert code == 2, output
    assert "pipeline.root: the scheme gs:// is not supported here" in output
    assert "kubeflow.pipeline_root" in output and "use a local path" in output


def test_remote_path_joins_like_a_path():
    path = filesystem.location("gs://bucket//serving/") / "staging" / "1"
    assert (str(path), path.name, str(path.parent), path.bucket, path.key) == (
        "gs://bucket/serving/staging/1",
        "1",
        "gs://bucket/serving/staging",
        "bucket",
        "serving/staging/1",
    )
    assert path.is_relative_to(RemotePath("gs://bucket/serving"))
    assert not RemotePath("gs://bucket/serving2").is_relative_to(RemotePath("gs://bucket/serving"))
    with pytest.raises(ValueError, match="contains '..'"):
        RemotePath("gs://bucket/serving/../elsewhere")
    assert filesystem.check_uri("stages.push.root", "gs://b/x") is None
