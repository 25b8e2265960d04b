"""The taxi pipeline's data stages on Beam's portable runner: a job service and two external worker pools.

`tfxgate beam-cluster` starts them on loopback (pipelines/beam_cluster.py); the
data stages (ImportSchemaGen, Ingest, Validate, DataDrift with a serving skew
check) run once in process (the default config: DirectRunner, Ingest's arrow
engine) and once on the cluster (Ingest's Beam engine, sharded over the two
workers; Validate's statistics by TFDV on Beam, as for a split over
`runner.max_in_memory_bytes`; DataDrift's summaries by its own Beam job).
Every output must be the same, the shards must have been read by SDK worker
processes of both pools and the examples by SDK workers for Validate and
DataDrift (an audit hook in the workers records which process opens a file,
and how), and `down` must leave nothing running.
"""

from __future__ import annotations

import glob
import json
import logging
import math
import os
import time
from pathlib import Path

import pytest

from tests.conftest import TAXI_CONFIG, taxi_csv
from tests.test_ingest_beam import read_examples

pytestmark = pytest.mark.e2e
PROBE = Path(__file__).parent / "beam_worker_probe"
DATA_STAGES = ["Validate", "DataDrift"]  # with everything upstream of them; nothing from the Trainer on


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Two files of 600 taxi rows (one Beam shard each) and a serving sample without `tips`."""
    folder = tmp_path_factory.mktemp("beam-data")
    with taxi_csv().open() as src:
        header, rows = next(src), [line for i, line in enumerate(src) if i % 12 == 0][:1200]
    (folder / "in").mkdir()
    for part in range(2):
        (folder / "in" / f"part-{part}.csv").write_text(header + "".join(rows[part * 600 : (part + 1) * 600]))
    columns = header.rstrip("\n").split(",")
    keep = [i for i, name in enumerate(columns) if name != "tips"]
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for record in csv.reader(io.StringIO(header + "".join(rows[::2]))):
        writer.writerow([record[i] for i in keep])
    (folder / "serving.csv").write_text(out.getvalue())
    return folder


@pytest.fixture(scope="module")
def cluster(data, tmp_path_factory):
    from tfxgate.pipelines import beam_cluster

    state_dir = tmp_path_factory.mktemp("beam-cluster")
    probe_log = state_dir / "opens"
    state = beam_cluster.up(
        workers=2,
        state_dir=state_dir,
        worker_env={
            "PYTHONPATH": os.pathsep.join([str(PROBE), os.environ.get("PYTHONPATH", "")]),
            "TFXGATE_PROBE_WATCH": str(tmp_path_factory.getbasetemp()),  # the inputs and the session's taxi run
            "TFXGATE_PROBE_LOG": str(probe_log),
        },
    )
    yield state, state_dir, probe_log
    stopped = beam_cluster.down(state_dir)
    import psutil

    left = [p for p in psutil.process_iter(["pid", "cmdline"]) if str(state_dir) in " ".join(p.info["cmdline"] or [])]
    assert {p["name"] for p in stopped} == {"job_service", "worker_pool_0", "worker_pool_1", "pool_router"}
    assert not left, f"left running after down: {left}"
    assert all(not psutil.pid_exists(p["pid"]) or psutil.Process(p["pid"]).status() == "zombie" for p in stopped)


def worker_opens(state: dict, probe_log: Path, files, *, reading: bool = False) -> set[str]:
    """Which processes opened any of `files` (a set of paths, or a test of a path; `reading`: for reading only):
    a pool's name for its SDK workers, else `not a pool's worker: pid N`."""
    import psutil

    logs = glob.glob(f"{probe_log}.*")
    opens = [line.split(" ", 2) for log in logs for line in Path(log).read_text().splitlines()]
    pools = {p["name"]: p["pid"] for p in state["processes"] if p["name"].startswith("worker_pool")}
    workers = {c.pid: name for name, pid in pools.items() for c in psutil.Process(pid).children(recursive=True)}
    return {
        workers.get(int(pid), f"not a pool's worker: pid {pid}")
        for pid, mode, path in opens
        if (files(path) if callable(files) else path in files) and not (reading and set(mode) & set("wax+"))
    }


def run_data_stages(data: Path, root: Path, *overrides: str):
    """Runs the taxi pipeline up to DataDrift (a TFX partial run); returns the loaded config."""
    from tfx.orchestration import pipeline as tfx_pipeline
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner

    from tfxgate.pipelines.build import build_pipeline
    from tfxgate.pipelines.config.root import load_config

    config = load_config(
        TAXI_CONFIG,
        overrides=[
            f"data.path={data}/in/part-*.csv",
            f"pipeline.root={root}",
            f"stages.push.root={root / 'serving'}",
            f"stages.drift.serving={data}/serving.csv",
            *overrides,
        ],
    )
    LocalDagRunner().run(build_pipeline(config), run_options=tfx_pipeline.RunOptions(to_nodes=DATA_STAGES))
    return config


def outputs(root: Path) -> dict:
    """Every output of the data stages, in comparable form."""
    import ml_metadata as mlmd
    from ml_metadata.proto import metadata_store_pb2

    connection = metadata_store_pb2.ConnectionConfig()
    connection.sqlite.filename_uri = str(root / "metadata.sqlite")
    store = mlmd.MetadataStore(connection)
    [examples] = store.get_artifacts_by_type("Examples")
    found = {
        name: examples.custom_properties[name].string_value or examples.custom_properties[name].int_value
        for name in ("rows_per_split", "rows_read", "bad_rows", "inferred_types", "input_files_sha256")
    }
    for split in ("train", "eval"):
        found[f"examples/{split}"] = read_examples(f"{examples.uri}/Split-{split}/*")
        [stats] = glob.glob(f"{root}/artifacts/Validate/statistics/*/Split-{split}/FeatureStats.pb")
        found[f"statistics/{split}"] = canonical_statistics(Path(stats).read_bytes())
    [report] = glob.glob(f"{root}/artifacts/DataDrift/**/drift_report.json", recursive=True)
    found["drift_report"] = json.loads(Path(report).read_text())
    return found


def canonical_statistics(data: bytes) -> dict:
    """Statistics as a dict, features in name order: each engine writes the examples' files in another
    order, so Arrow reads columns (and rows) in another order; sums then differ in the last float bits."""
    from google.protobuf import json_format
    from tensorflow_metadata.proto.v0 import statistics_pb2

    stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(data)
    for dataset in stats.datasets:
        features = sorted(dataset.features, key=lambda f: list(f.path.step))
        del dataset.features[:]
        dataset.features.extend(features)
    return json_format.MessageToDict(stats)


def same(a, b) -> bool:
    """Equal, floats up to summation order (relative 1e-9); counts, names and structure exactly."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_data_stages_on_two_external_worker_pools_match_the_in_process_run(cluster, data, tmp_path):
    state, state_dir, probe_log = cluster
    beam = state["beam"]
    # A bound of one byte: Validate hands every split to TFDV on Beam (as it does a split too big for memory),
    # on the DirectRunner in this process for the local run, on the cluster for the other.
    bound = "runner.max_in_memory_bytes=1"
    started = time.monotonic()
    run_data_stages(data, tmp_path / "local", bound)
    in_process = time.monotonic() - started
    config = run_data_stages(
        data,
        tmp_path / "cluster",
        bound,
        *(f"runner.beam.{key}={value}" for key, value in beam.items() if key != "options"),
        f"runner.beam.options=[{', '.join(beam['options'])}]",
    )
    assert config.runner.beam.pipeline_args()[:2] == [
        "--runner=PortableRunner",
        f"--job_endpoint={beam['job_endpoint']}",
    ]

    logging.warning("data stages: %.1f s in process, %.1f s on the cluster", in_process, time.monotonic() - started)
    local, remote = outputs(tmp_path / "local"), outputs(tmp_path / "cluster")
    assert json.loads(local["rows_per_split"]) and sum(json.loads(local["rows_per_split"]).values()) == 1200
    assert len(local["examples/train"]) > len(local["examples/eval"]) > 100
    assert local["drift_report"] and "skew" in json.dumps(local["drift_report"])
    for name in local:
        assert same(remote[name], local[name]), name

    # Each shard (one per input file) was read by an SDK worker of a pool, none by the driver's Beam job.
    pools = {p["name"] for p in state["processes"] if p["name"].startswith("worker_pool")}
    assert worker_opens(state, probe_log, {str(p) for p in (data / "in").glob("*.csv")}) == pools
    routed = (state_dir / "pool_router.log").read_text()
    assert routed.count("-> pool") >= 2
    # Validate's statistics (TFDV on Beam) and DataDrift's summaries read the examples in the pools' SDK workers,
    # not in the driver; DataDrift's merged summary was written by one of them (then read back and removed).
    examples = {str(p) for p in (tmp_path / "cluster" / "artifacts" / "Ingest").glob("examples/*/Split-*/*")}
    assert examples and worker_opens(state, probe_log, examples, reading=True) <= pools
    assert worker_opens(state, probe_log, examples, reading=True)
    drift_dir = str(tmp_path / "cluster" / "artifacts" / "DataDrift")
    summaries = worker_opens(state, probe_log, lambda path: path.startswith(drift_dir) and "/.beam-summary-" in path)
    assert summaries and summaries <= pools
    assert not glob.glob(f"{drift_dir}/**/.beam-summary-*", recursive=True)


def test_slice_eval_beam_engine_on_the_cluster_matches_the_in_process_metrics(cluster, taxi_runs, sample_csv, tmp_path):
    """SliceEval's `beam` engine (TFMA on Beam) on the cluster: the session run's model on its eval split.

    Its metrics on every slice must be the in-process fast engine's (the pipeline run's own
    evaluation), its blessing the same, and the eval split must have been read by the pools' SDK workers.
    """
    from tests.test_e2e_slice_eval_engines import beam_engine, metric_differences
    from tfxgate.pipelines.config.beam import BeamSection

    state, _, probe_log = cluster
    args = BeamSection(**state["beam"]).pipeline_args()
    assert args[0] == "--runner=PortableRunner"
    _, evaluation, blessing, ran = beam_engine(taxi_runs.root, sample_csv, tmp_path, args)
    assert ran == "beam"

    [fast] = (taxi_runs.root / "artifacts/SliceEval/evaluation").iterdir()
    assert metric_differences(fast, evaluation) == []
    [fast_blessing] = (taxi_runs.root / "artifacts/SliceEval/blessing").iterdir()
    assert (blessing / "BLESSED").exists() and (fast_blessing / "BLESSED").exists()
    eval_split = {str(p) for p in (taxi_runs.root / "artifacts/Ingest/examples").glob("*/Split-eval/*")}
    assert eval_split and worker_opens(state, probe_log, eval_split) <= {"worker_pool_0", "worker_pool_1"}
    assert worker_opens(state, probe_log, eval_split)
