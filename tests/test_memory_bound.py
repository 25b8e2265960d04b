"""`runner.max_in_memory_bytes`: stages that load a whole split check its size first; above the bound
Validate hands its statistics over to TFDV on Beam (no swapping). DataDrift reads its splits batch by batch
and is not bounded by the key any more (tests/test_drift_streaming.py)."""

from __future__ import annotations

import json

import pytest

from tfxgate.artifacts.examples import MEMORY_KEY, SplitTooLarge, check_fits, split_bytes
from tfxgate.components.ingest import examples as example_files
from tfxgate.components.ingest.streaming import ingest_stream

SPLITS = {"train": 2, "eval": 1}


@pytest.fixture(scope="module")
def examples_uri(tmp_path_factory) -> str:
    """Ingest's output (TFRecords, Arrow copy and its sidecar) for 400 small rows."""
    root = tmp_path_factory.mktemp("examples")
    data = root / "data.csv"
    data.write_text("id,fare,company\n" + "".join(f"{i},{i % 13}.25,c{i % 3}\n" for i in range(400)))
    uri = str(root / "examples")
    writers = example_files.SplitWriters({s: f"{uri}/Split-{s}" for s in SPLITS}, examples_uri=uri)
    result = ingest_stream(
        [str(data)], open_file=lambda p: open(p, "rb"), sink=writers, data_format="csv", splits=SPLITS
    )
    writers.close(kinds=result.kinds)
    return uri


def test_split_size_comes_from_ingests_sidecar_else_the_tfrecords(examples_uri, tmp_path):
    import shutil

    sidecar = json.loads(open(f"{examples_uri}/arrow/Split-train.json").read())
    assert split_bytes(examples_uri, "train") == sidecar["bytes"] > 0
    stock = tmp_path / "stock"  # what a stock ExampleGen leaves: TFRecords only
    shutil.copytree(f"{examples_uri}/Split-train", stock / "Split-train")
    assert split_bytes(str(stock), "train") == 8 * (stock / "Split-train" / example_files.FILE_NAME).stat().st_size


def test_a_split_over_the_bound_is_refused_naming_the_key(examples_uri):
    check_fits(examples_uri, "train", limit=1 << 20, stage="DataDrift", beyond="x")
    with pytest.raises(SplitTooLarge, match=f"DataDrift: split 'train' of {examples_uri} .* above {MEMORY_KEY}=100 "):
        check_fits(examples_uri, "train", limit=100, stage="DataDrift", beyond="x")


def test_validate_hands_a_split_over_the_bound_to_tfdv_on_beam(examples_uri, tmp_path):
    from tfxgate.components.validate.executor import compute_statistics

    in_memory = compute_statistics(examples_uri, ["eval"], statistics_uri=str(tmp_path / "arrow"))["eval"]
    on_beam = compute_statistics(examples_uri, ["eval"], statistics_uri=str(tmp_path / "beam"), max_in_memory_bytes=1)[
        "eval"
    ]
    [fast], [beam] = in_memory.datasets, on_beam.datasets
    assert beam.name == fast.name == "eval"
    assert beam.num_examples == fast.num_examples > 100
    assert {f.path.step[0] for f in beam.features} == {f.path.step[0] for f in fast.features}
    by_name = {f.path.step[0]: f for f in beam.features}
    assert by_name["fare"].num_stats.max == 12.25  # TFDV's own numbers, not the Arrow path's
    assert (tmp_path / "beam" / "Split-eval" / "FeatureStats.pb").exists()


def test_config_keys_reach_the_stages(tmp_path):
    from tests.test_config import MINIMAL, write_config
    from tfxgate.pipelines.build import build_pipeline
    from tfxgate.pipelines.config.root import load_config

    overrides = ["runner.max_in_memory_bytes=1000", "data.block_bytes=4096", "stages.drift.enabled=true"]
    pipeline = build_pipeline(load_config(write_config(tmp_path, MINIMAL), overrides=overrides))
    nodes = {type(node).__name__: node for node in pipeline.components}
    assert nodes["Ingest"].exec_properties["block_bytes"] == 4096
    for stage in ("Validate", "DataDrift"):
        assert json.loads(nodes[stage].exec_properties["config_json"])["max_in_memory_bytes"] == 1000
    assert nodes["SliceEval"].exec_properties["max_in_memory_bytes"] == 1000
    # Unset, SliceEval's properties do not carry it (the default bound applies; cache keys stay as they were).
    unset = build_pipeline(load_config(write_config(tmp_path, MINIMAL)))
    [slice_eval] = [node for node in unset.components if type(node).__name__ == "SliceEval"]
    assert "max_in_memory_bytes" not in slice_eval.exec_properties


def test_validate_hands_over_to_tfdv_on_the_configured_runner_not_in_process(tmp_path):
    """Under a portable runner Validate's settings carry its flags (the handover runs on the cluster);
    under the DirectRunner they stay out (in process, and the node's cache key is unchanged)."""
    from tests.test_config import MINIMAL, write_config
    from tfxgate.pipelines.build import build_pipeline
    from tfxgate.pipelines.config.root import load_config

    portable = [
        "runner.beam.runner=portable",
        "runner.beam.job_endpoint=localhost:8099",
        "runner.beam.environment_type=EXTERNAL",
        "runner.beam.environment_config=localhost:50000",
    ]
    for overrides, expected in (([], None), (portable, "args")):
        config = load_config(write_config(tmp_path, MINIMAL), overrides=overrides)
        nodes = {type(node).__name__: node for node in build_pipeline(config).components}
        settings = json.loads(nodes["Validate"].exec_properties["config_json"])
        if expected is None:
            assert "beam_args" not in settings
        else:
            assert settings["beam_args"] == config.runner.beam.pipeline_args()
            assert settings["beam_args"][:2] == ["--runner=PortableRunner", "--job_endpoint=localhost:8099"]
