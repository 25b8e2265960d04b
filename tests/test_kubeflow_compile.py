"""Every config under configs/ with a kubeflow section compiles for Kubeflow, and the result loads as KFP protos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, run_cli
from tfxgate.pipelines.config.root import ConfigError, load_config

# Every config with a `kubeflow:` section (wine and diabetes are local-only examples).
CONFIGS = sorted(p for p in (REPO / "configs").glob("*.yaml") if "\nkubeflow:" in p.read_text())


@pytest.fixture(scope="module", params=CONFIGS, ids=lambda p: p.stem)
def compiled(request, tmp_path_factory):
    """(config, the PipelineSpec YAML, the PipelineJob JSON) for one config."""
    from tfxgate.pipelines.kubeflow.compile import compile_kubeflow

    out = tmp_path_factory.mktemp(request.param.stem)
    config = load_config(request.param)
    compile_kubeflow(config, out / "pipeline.yaml")
    compile_kubeflow(config, out / "pipeline.json")
    return config, out / "pipeline.yaml", out / "pipeline.json"


def test_yaml_loads_with_the_kfp_sdk_and_parses_as_pipeline_spec(compiled):
    import kfp.components
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    config, spec_yaml, _ = compiled
    component = kfp.components.load_component_from_file(str(spec_yaml))
    assert component.name == config.pipeline.name
    spec_dict = next(yaml.safe_load_all(spec_yaml.read_text()))
    spec = json_format.ParseDict(spec_dict, pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=False)
    assert spec.default_pipeline_root == config.kubeflow.pipeline_root
    assert "Trainer" in spec.root.dag.tasks and "GovernedPush" in spec.root.dag.tasks


def test_json_parses_as_pipeline_job(compiled):
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    config, _, job_json = compiled
    job = json_format.ParseDict(json.loads(job_json.read_text()), pipeline_spec_pb2.PipelineJob())
    assert job.display_name == config.pipeline.name
    assert job.runtime_config.gcs_output_directory == config.kubeflow.pipeline_root
    spec = json_format.ParseDict(json_format.MessageToDict(job.pipeline_spec), pipeline_spec_pb2.PipelineSpec())
    assert spec.schema_version == "2.1.0"


def test_kubeflow_section_sets_image_resources_caching_and_retries(compiled):
    config, spec_yaml, _ = compiled
    spec = next(yaml.safe_load_all(spec_yaml.read_text()))
    kubeflow = config.kubeflow
    trainer = spec["deploymentSpec"]["executors"]["Trainer_executor"]["container"]
    assert trainer["image"] == kubeflow.image
    expected = kubeflow.resources_for("Trainer")
    if expected.memory:
        assert trainer["resources"]["resourceMemoryRequest"] == expected.memory
    if expected.cpu:
        assert trainer["resources"]["cpuRequest"] == expected.cpu
    for name, task in spec["root"]["dag"]["tasks"].items():
        assert task["cachingOptions"] == {"enableCache": kubeflow.caching}, name
        if kubeflow.retries and "resolver" not in name:
            assert task["retryPolicy"]["maxRetryCount"] == kubeflow.retries, name


def test_trainer_module_points_into_the_pipeline_root(compiled):
    config, spec_yaml, _ = compiled
    text = spec_yaml.read_text()
    assert f"trainer@{config.kubeflow.pipeline_root}/_wheels/tfx_user_code_Trainer" in text
    wheels = list((spec_yaml.parent / "_wheels").glob("*.whl")) if config.kubeflow.remote else [None]
    assert wheels, "the module wheel was not staged next to the output"


def test_resolver_is_the_stock_latest_blessed_model_queries(compiled):
    _, spec_yaml, _ = compiled
    executors = next(yaml.safe_load_all(spec_yaml.read_text()))["deploymentSpec"]["executors"]
    queries = executors["baseline_model_resolver-model-blessing-resolver_executor"]["resolver"]
    assert "metadata.blessed.number_value=1" in queries["outputArtifactQueries"]["model_blessing"]["filter"]


def test_compile_cli_without_kubeflow_section_exits_2(tmp_path):
    config = tmp_path / "nokf.yaml"
    text = (REPO / "configs" / "taxi.yaml").read_text().split("\nkubeflow:")[0]
    config.write_text(text.replace("../", f"{REPO}/"))
    result = run_cli("compile", str(config), "--output", str(tmp_path / "p.yaml"), root=tmp_path)
    assert result.returncode == 2
    assert "kubeflow: section missing" in result.stderr and "nokf.yaml" in result.stderr


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("kubeflow.pipeline_root=relative/dir", "kubeflow.pipeline_root"),
        ("kubeflow.resources.Trainr={cpu: 2}", "unknown component 'Trainr'"),
        ("kubeflow.resources.Trainer={memory: lots}", "'lots' is not a memory quantity"),
        ("kubeflow.retries=-1", "kubeflow.retries"),
        ("kubeflow.imagee=x", "kubeflow.imagee"),
    ],
)
def test_bad_kubeflow_section_is_refused_at_load(override, message):
    with pytest.raises(ConfigError) as err:
        load_config(REPO / "configs" / "taxi.yaml", overrides=[override])
    assert message in str(err.value)


def test_output_suffix_is_checked(tmp_path):
    from tfxgate.pipelines.kubeflow.compile import CompileError, compile_kubeflow

    with pytest.raises(CompileError, match=r"--output .*p\.txt: use \.yaml"):
        compile_kubeflow(load_config(REPO / "configs" / "taxi.yaml"), Path(tmp_path / "p.txt"))


def test_help_lists_compile_and_submit(tmp_path):
    result = run_cli("--help", root=tmp_path)
    assert "compile" in result.stdout and "submit" in result.stdout


def test_compile_says_drift_vs_the_pushed_models_span_is_not_checked_on_kubeflow(tmp_path):
    from tfxgate.pipelines.kubeflow.compile import compile_kubeflow

    config = load_config(REPO / "configs" / "taxi.yaml", overrides=[f"kubeflow.pipeline_root={tmp_path / 'root'}"])
    compiled = compile_kubeflow(config, tmp_path / "p.yaml")
    assert any(
        w.startswith("stages.drift: on Kubeflow DataDrift compares with the latest earlier Examples only")
        for w in compiled.warnings
    )
    assert "pushed_span_resolver" not in compiled.spec["root"]["dag"]["tasks"]
    assert "previous_span_resolver" in compiled.spec["root"]["dag"]["tasks"]
