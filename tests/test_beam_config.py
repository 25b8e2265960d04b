"""The `runner.beam` section: argument lists per runner, and options a runner does not take."""

from __future__ import annotations

import pytest

from tests.conftest import TAXI_CONFIG
from tfxgate.pipelines.config.root import ConfigError, load_config


def beam(section: str):
    return load_config(TAXI_CONFIG, overrides=[f"runner.beam={section}"]).runner.beam


def beam_error(section: str) -> str:
    with pytest.raises(ConfigError) as err:
        beam(section)
    return str(err.value)


def test_direct_runner_args_carry_running_mode_and_workers():
    section = beam("{runner: direct, direct_running_mode: multi_processing, direct_num_workers: 2}")
    assert section.pipeline_args() == [
        "--runner=DirectRunner",
        "--direct_running_mode=multi_processing",
        "--direct_num_workers=2",
    ]


def test_dataflow_args():
    section = beam(
        "{runner: dataflow, options: [--project=acme, --region=europe-west1,"
        " --temp_location=gs://acme/tmp, --num_workers=4, --machine_type=n1-standard-4]}"
    )
    assert section.pipeline_args() == [
        "--runner=DataflowRunner",
        "--project=acme",
        "--region=europe-west1",
        "--temp_location=gs://acme/tmp",
        "--num_workers=4",
        "--machine_type=n1-standard-4",
    ]


def test_flink_args():
    section = beam(
        "{runner: flink, options: [--flink_master=flink:8081, --parallelism=4, --environment_type=LOOPBACK]}"
    )
    assert section.pipeline_args() == [
        "--runner=FlinkRunner",
        "--flink_master=flink:8081",
        "--parallelism=4",
        "--environment_type=LOOPBACK",
    ]


def test_spark_and_portable_args():
    spark = beam("{runner: spark, options: [--spark_master_url=spark://m:7077, --environment_type=DOCKER]}")
    assert spark.pipeline_args() == [
        "--runner=SparkRunner",
        "--spark_master_url=spark://m:7077",
        "--environment_type=DOCKER",
    ]
    portable = beam("{runner: portable, options: [--job_endpoint=localhost:8099]}")
    assert portable.pipeline_args() == ["--runner=PortableRunner", "--job_endpoint=localhost:8099"]


def test_common_options_go_with_any_runner():
    section = beam("{runner: flink, options: [--flink_master=f:8081, --save_main_session, --experiments=a]}")
    assert "--save_main_session" in section.pipeline_args()


def test_options_of_another_runner_are_rejected_naming_the_runner_that_takes_them():
    message = beam_error(
        "{runner: dataflow, options: [--project=p, --region=r, --temp_location=gs://b/t, --flink_master=f:8081]}"
    )
    assert "runner.beam" in message
    assert "--flink_master=f:8081: runner 'dataflow' does not take --flink_master (runners that do: flink)" in message
    message = beam_error("{runner: flink, options: [--num_workers=3]}")
    assert "runner 'flink' does not take --num_workers (runners that do: dataflow)" in message
    message = beam_error("{runner: direct, options: [--spark_master_url=spark://m:7077]}")
    assert "runner 'direct' does not take --spark_master_url (runners that do: spark)" in message


def test_unknown_and_typed_options_are_rejected():
    message = beam_error("{options: [--direct_num_wrkers=2, --direct_num_workers=2, notaflag]}")
    assert "'notaflag' is not a Beam option (expected --name=value)" in message
    message = beam_error("{options: [--direct_num_wrkers=2, --runner=FlinkRunner]}")
    assert "--direct_num_wrkers=2: Beam has no pipeline option --direct_num_wrkers" in message
    assert "--runner=FlinkRunner: set it with runner.beam.runner, not in options" in message


def test_dataflow_needs_project_region_and_temp_location():
    message = beam_error("{runner: dataflow, options: [--project=p]}")
    assert "runner 'dataflow' needs --region, --temp_location in options" in message


def test_unknown_runner_is_rejected():
    message = beam_error("{runner: samza}")
    assert "runner.beam.runner" in message and "'samza'" in message


def test_portable_keys_become_beam_flags():
    section = beam(
        "{runner: portable, job_endpoint: 'localhost:8099', environment_type: EXTERNAL,"
        " environment_config: 'localhost:50000', sdk_worker_parallelism: 2, options: [--job_server_timeout=600]}"
    )
    assert section.pipeline_args() == [
        "--runner=PortableRunner",
        "--job_endpoint=localhost:8099",
        "--environment_type=EXTERNAL",
        "--environment_config=localhost:50000",
        "--sdk_worker_parallelism=2",
        "--job_server_timeout=600",
    ]
    from apache_beam.options.pipeline_options import PipelineOptions, PortableOptions

    parsed = PipelineOptions(section.pipeline_args()).view_as(PortableOptions)
    assert (parsed.job_endpoint, parsed.environment_type, parsed.environment_config) == (
        "localhost:8099",
        "EXTERNAL",
        "localhost:50000",
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "{runner: flink, options: [--parallelism=many]}",
            "runner.beam.options[0]: Beam refuses --parallelism=many: argument --parallelism: invalid int value",
        ),
        (
            "{runner: portable, job_endpoint: 'l:1', options: [--save_main_session, --job_server_timeout=soon]}",
            "runner.beam.options[1]: Beam refuses --job_server_timeout=soon",
        ),
        ("{runner: portable, environment_type: DOCKER}", "runner.beam.job_endpoint: runner 'portable' needs a job"),
        (
            "{runner: portable, job_endpoint: 'l:1', environment_type: EXTERNAL}",
            "runner.beam.environment_config: environment_type EXTERNAL needs the worker pool's host:port",
        ),
        (
            "{runner: direct, job_endpoint: 'l:1', sdk_worker_parallelism: 2}",
            "runner.beam.job_endpoint, runner.beam.sdk_worker_parallelism: only the portable runners",
        ),
        (
            "{runner: portable, job_endpoint: 'l:1', options: ['--job_endpoint=other:2']}",
            "--job_endpoint=other:2: set it once, with runner.beam.job_endpoint",
        ),
        ("{runner: portable, job_endpoint: 'l:1', environment_type: KUBERNETES}", "environment_type"),
        ("{runner: spark, sdk_worker_parallelism: -1}", "sdk_worker_parallelism"),
    ],
)
def test_portable_settings_beam_refuses_name_the_config_key(section, message):
    assert message in beam_error(section)


@pytest.mark.parametrize("name", ["taxi-dataflow", "taxi-flink", "taxi-spark"])
def test_example_cluster_configs_pass_check(name):
    from tests.conftest import REPO

    config = load_config(REPO / "configs" / f"{name}.yaml")
    args = config.runner.beam.pipeline_args()
    assert args[0] in ("--runner=DataflowRunner", "--runner=PortableRunner")
    assert str(config.data.path).startswith("gs://") and config.kubeflow.pipeline_root.startswith("gs://")
