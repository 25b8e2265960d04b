"""Every config under configs/ with a kubeflow section compiles for Kubeflow, and the result loads as KFP protos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, run_cli, taxi_rows
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
        ("kubeflow.resources.Trainr={cpu: 2}", "kubeflow.resources.Trainr: unknown stage 'Trainr'"),
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


TAXI = REPO / "configs" / "taxi.yaml"
TAXI_STAGES = ["Ingest", "ImportSchemaGen", "Validate", "DataDrift", "Trainer", "SliceEval", "GovernedPush"]


@pytest.fixture(scope="module")
def every_stage(tmp_path_factory):
    """taxi on spanned data with a distinct memory request for every stage: (config, compiled spec)."""
    from tfxgate.pipelines.kubeflow.compile import compile_kubeflow

    base = tmp_path_factory.mktemp("every-stage")
    (base / "data" / "span-1").mkdir(parents=True)
    (base / "data" / "span-1" / "data.csv").write_text(taxi_rows(50))
    requests = ", ".join(f"{stage}: {{memory: {i + 1}Gi}}" for i, stage in enumerate(TAXI_STAGES))
    config = load_config(
        TAXI,
        overrides=[
            f"data.path={base / 'data' / 'span-{SPAN}' / 'data.csv'}",
            f"kubeflow.pipeline_root={base / 'root'}",
            f"kubeflow.resources={{{requests}}}",
        ],
    )
    return config, compile_kubeflow(config, base / "p.yaml").spec


def test_every_stage_of_the_pipeline_takes_its_own_resources(every_stage):
    from tfxgate.pipelines.kubeflow.compile import container_tasks
    from tfxgate.pipelines.stage_ids import container_stages

    config, spec = every_stage
    assert sorted(container_stages(config)) == sorted(container_tasks(spec)) == sorted(TAXI_STAGES)
    executors = spec["deploymentSpec"]["executors"]
    for i, stage in enumerate(TAXI_STAGES):
        resources = executors[f"{stage}_executor"]["container"]["resources"]
        assert resources == {"resourceMemoryRequest": f"{i + 1}Gi"}, stage


def _resolver(spec: dict, task: str) -> tuple[str, dict]:
    """(the filter of the resolver task's one query, its input artifacts -> producer task)."""
    component = spec["components"][spec["root"]["dag"]["tasks"][task]["componentRef"]["name"]]
    [query] = spec["deploymentSpec"]["executors"][component["executorLabel"]]["resolver"][
        "outputArtifactQueries"
    ].values()
    inputs = spec["root"]["dag"]["tasks"][task].get("inputs", {}).get("artifacts", {})
    assert set(inputs) == set(component.get("inputDefinitions", {}).get("artifacts", {})), task
    return query["filter"], {key: source["taskOutputArtifact"]["producerTask"] for key, source in inputs.items()}


def test_previous_span_pushed_span_and_baseline_are_tfxgates_queries_in_the_spec(every_stage):
    _, spec = every_stage
    live = "state=LIVE AND "
    assert _resolver(spec, "previous_span_resolver") == (
        f'schema_title="tfx.Examples" AND {live}'
        "metadata.span.number_value<{{$.inputs.artifacts['current'].metadata['span']}}",
        {"current": "Ingest"},
    )
    assert _resolver(spec, "pushed_model_resolver") == (
        f'schema_title="tfx.PushedModel" AND {live}metadata.pushed.number_value=1',
        {},
    )
    assert _resolver(spec, "pushed_span_resolver") == (
        f'schema_title="tfx.Examples" AND {live}'
        "uri=\"{{$.inputs.artifacts['pushed_model'].metadata['examples_uri']}}\" AND "
        "uri!=\"{{$.inputs.artifacts['current'].uri}}\"",
        {"pushed_model": "pushed_model_resolver", "current": "Ingest"},
    )
    assert _resolver(spec, "baseline_model_resolver") == (
        f'schema_title="tfx.Model" AND {live}'
        "uri=\"{{$.inputs.artifacts['pushed_model'].metadata['model_uri']}}\" AND "
        "uri!=\"{{$.inputs.artifacts['candidate'].uri}}\"",
        {"pushed_model": "pushed_model_resolver", "candidate": "Trainer"},
    )
    tasks = spec["root"]["dag"]["tasks"]
    consumed = {
        (task, key): source["taskOutputArtifact"]["producerTask"]
        for task in ("DataDrift", "SliceEval")
        for key, source in tasks[task]["inputs"]["artifacts"].items()
    }
    assert consumed[("DataDrift", "baseline_examples")] == "previous_span_resolver"
    assert consumed[("DataDrift", "pushed_examples")] == "pushed_span_resolver"
    assert consumed[("SliceEval", "baseline_model")] == "baseline_model_resolver"


def test_unspanned_input_takes_the_latest_other_ingestion_as_the_previous_span(compiled):
    config, spec_yaml, _ = compiled
    assert not config.data.has_span
    spec = next(yaml.safe_load_all(spec_yaml.read_text()))
    query, inputs = _resolver(spec, "previous_span_resolver")
    assert query.endswith("uri!=\"{{$.inputs.artifacts['current'].uri}}\"") and inputs == {"current": "Ingest"}


def test_push_task_names_the_pipeline_and_kfps_run_for_its_records(compiled):
    config, spec_yaml, _ = compiled
    spec = next(yaml.safe_load_all(spec_yaml.read_text()))
    parameter = spec["root"]["dag"]["tasks"]["GovernedPush"]["inputs"]["parameters"]["kubeflow_run"]
    run = json.loads(parameter["runtimeValue"]["constant"])
    assert run == {"pipeline": config.pipeline.name, "run_id": "{{$.pipeline_job_name}}"}


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("kubeflow.resources.Evaluator={cpu: 2}", "Evaluator"),  # the stock Evaluator is no stage of tfxgate's
        ("kubeflow.resources.baseline_model_resolver={cpu: 2}", "baseline_model_resolver"),  # a query, no pod
    ],
)
def test_a_resource_request_for_no_stage_of_the_pipeline_is_refused_at_check(tmp_path, override, key):
    result = run_cli("check", str(TAXI), "--set", override, root=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"kubeflow.resources.{key}: unknown stage {key!r}" in result.stderr
    assert f"this pipeline's stages are {', '.join(['default', *TAXI_STAGES])}" in result.stderr


def test_switching_a_stage_off_leaves_its_resource_request_valid(tmp_path):
    """`--set stages.drift.enabled=false` on a config that sizes DataDrift: the entry is unused, not an error."""
    sets = ["stages.drift.enabled=false", "kubeflow.resources.DataDrift={cpu: 2}"]
    result = run_cli("check", str(TAXI), *[i for item in sets for i in ("--set", item)], root=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_stage_ids_are_the_built_pipelines_node_ids():
    from tfxgate.pipelines.build import build_pipeline
    from tfxgate.pipelines.stage_ids import stage_ids

    variants = [[], ["stages.drift.enabled=false"], ["stages.push.enabled=false", "stages.evaluation.enabled=false"]]
    for overrides in variants:
        config = load_config(TAXI, overrides=[*overrides, "kubeflow.resources={}"])
        for target in ("local", "kubeflow"):
            built = build_pipeline(config, target=target).components  # in topological order
            assert sorted(node.id for node in built) == sorted(stage_ids(config))
    inferred = load_config(TAXI).model_copy(update={"schema_file": None})
    assert stage_ids(inferred)[:3] == ["Ingest", "Validate", "SchemaGen"]
    assert sorted(node.id for node in build_pipeline(inferred).components) == sorted(stage_ids(inferred))


def test_the_spec_names_the_tfxgate_image_by_default(compiled):
    from tfxgate.pipelines.kubeflow.settings import DEFAULT_IMAGE

    config, spec_yaml, _ = compiled
    spec = next(yaml.safe_load_all(spec_yaml.read_text()))
    images = {e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values() if "container" in e}
    assert images == {DEFAULT_IMAGE} == {config.kubeflow.image}
    assert DEFAULT_IMAGE == "tfxgate:0.1.0"


def test_an_image_without_tfxgate_is_refused_unless_named_explicitly(tmp_path):
    stock = "kubeflow.image=gcr.io/tfx-oss-public/tfx:1.16.0"
    output = tmp_path / "p.yaml"
    refused = run_cli("compile", str(TAXI), "--output", str(output), "--set", stock, root=tmp_path)
    assert refused.returncode == 2
    assert "kubeflow.image gcr.io/tfx-oss-public/tfx:1.16.0 has no tfxgate in it" in refused.stderr
    assert "--image gcr.io/tfx-oss-public/tfx:1.16.0" in refused.stderr and not output.exists()
    forced = run_cli(
        "compile",
        str(TAXI),
        "--output",
        str(output),
        "--set",
        stock,
        "--set",
        f"kubeflow.pipeline_root={tmp_path / 'root'}",
        "--image",
        "gcr.io/tfx-oss-public/tfx:1.16.0",
        root=tmp_path,
    )
    assert forced.returncode == 0, forced.stderr
    spec = next(yaml.safe_load_all(output.read_text()))
    assert spec["deploymentSpec"]["executors"]["Trainer_executor"]["container"]["image"] == (
        "gcr.io/tfx-oss-public/tfx:1.16.0"
    )


def test_transform_is_a_task_with_its_resources_and_module_wheel(compiled):
    """configs/taxi_transform.yaml: a Transform task feeding the Trainer; the others have none."""
    config, spec_yaml, _ = compiled
    spec = next(yaml.safe_load_all(spec_yaml.read_text()))
    tasks = spec["root"]["dag"]["tasks"]
    if not config.stages.transform.enabled:
        assert "Transform" not in tasks
        return
    assert "Transform" in tasks["Trainer"]["dependentTasks"]
    assert "Validate" in tasks["Transform"]["dependentTasks"]
    container = spec["deploymentSpec"]["executors"]["Transform_executor"]["container"]
    expected = config.kubeflow.resources_for("Transform")
    assert container["resources"]["cpuRequest"] == expected.cpu == 2
    assert container["resources"]["resourceMemoryRequest"] == expected.memory
    assert f"preprocessing@{config.kubeflow.pipeline_root}/_wheels/tfx_user_code_Transform" in spec_yaml.read_text()
