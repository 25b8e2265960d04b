"""ML Metadata on a real MariaDB server: `tfxgate metadata check`, and the taxi pipeline end to end.

The server is the session's private `mariadbd` (tests/conftest.py `mariadb`);
each test gets its own database and user.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, TAXI_CONFIG, CliRun, run_cli, run_pipeline, small_run_overrides
from tests.mariadb import Database
from tests.test_e2e_taxi import COMPONENTS, executions_per_node, pushed_versions

pytestmark = pytest.mark.mysql


def metadata_check(db, root: Path, *extra: str, env=None):
    return run_cli(
        "metadata", "check", str(TAXI_CONFIG), "--set", db.metadata_override, *extra, root=root, env=env or db.env
    )


def assert_no_password(db, *texts: str) -> None:
    for text in texts:
        assert db.password not in text


def test_metadata_check_creates_the_schema_only_with_upgrade(mariadb, sample_csv, tmp_path):
    db = mariadb.create_database("check_create")

    first = metadata_check(db, tmp_path)
    assert first.returncode == 1, first.stderr
    assert f"metadata store: mysql://{db.user}@127.0.0.1:{db.port}/{db.name} (mysql)" in first.stdout
    assert f"server: {mariadb.version()}" in first.stdout
    assert "MLMD schema: none yet (this ml-metadata writes v10)" in first.stdout
    assert "run again with --upgrade" in first.stderr
    assert mariadb.query("SHOW TABLES", database=db.name) == []  # checking created nothing

    refused = run_pipeline(sample_csv, tmp_path / "root", db.metadata_override, env=db.env)
    assert refused.returncode == 2
    # The command it prints is this run's, --set included, and works as printed.
    [command] = re.findall(r"has no ML Metadata schema yet: run `([^`]+)` to create or upgrade it", refused.stderr)
    [tfxgate, *args] = shlex.split(command)
    assert tfxgate == "tfxgate" and args[:3] == ["metadata", "check", str(TAXI_CONFIG)] and args[-1] == "--upgrade"
    assert db.metadata_override in args

    created = run_cli(*args, root=tmp_path, env=db.env)
    assert created.returncode == 0, created.stderr
    assert "created schema: now v10" in created.stdout and "ready" in created.stdout
    assert mariadb.query("SELECT schema_version FROM MLMDEnv", database=db.name) == [(10,)]

    again = metadata_check(db, tmp_path)
    assert again.returncode == 0 and "MLMD schema: v10" in again.stdout and "created" not in again.stdout
    assert_no_password(db, *(r.stdout + r.stderr for r in (first, refused, created, again)))


def test_an_older_schema_is_upgraded_only_on_request(mariadb, tmp_path, monkeypatch):
    import ml_metadata as mlmd

    from tfxgate.mlmd.store import connection_config
    from tfxgate.pipelines.config.root import load_config

    db = mariadb.create_database("check_upgrade")
    assert metadata_check(db, tmp_path, "--upgrade").returncode == 0
    monkeypatch.setenv(db.password_env, db.password)
    config = load_config(TAXI_CONFIG, overrides=[db.metadata_override])
    mlmd.downgrade_schema(connection_config(config.metadata, root=tmp_path), 9)

    old = metadata_check(db, tmp_path)
    assert old.returncode == 1 and "MLMD schema: v9 (this ml-metadata writes v10)" in old.stdout
    assert mariadb.query("SELECT schema_version FROM MLMDEnv", database=db.name) == [(9,)]

    upgraded = metadata_check(db, tmp_path, "--upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "MLMD schema: v9" in upgraded.stdout and "upgraded schema: now v10" in upgraded.stdout
    assert mariadb.query("SELECT schema_version FROM MLMDEnv", database=db.name) == [(10,)]


def test_login_problems_name_the_store_and_never_the_password(mariadb, tmp_path):
    db = mariadb.create_database("check_login")
    wrong = metadata_check(db, tmp_path, env={**db.env, db.password_env: db.password + "x"})
    assert wrong.returncode == 2
    assert f"cannot connect to ML Metadata at mysql://{db.user}@127.0.0.1:{db.port}/{db.name}" in wrong.stderr
    assert "Access denied" in wrong.stderr

    unset = metadata_check(db, tmp_path, env={k: v for k, v in db.env.items() if k != db.password_env})
    assert unset.returncode == 2
    assert f"metadata.password_env: environment variable {db.password_env} is not set" in unset.stderr
    assert_no_password(db, wrong.stdout, wrong.stderr, unset.stdout, unset.stderr)


# The production setup end to end, in one sequence that CI pays for once: MariaDB
# metadata and the multi-processing DirectRunner (2 workers). The first run loses
# its server while the Trainer runs; the second resumes after the restart; the
# third is an unchanged rerun.
# SliceEval on its Beam engine (TFMA, the path for data beyond memory): the in-process fast
# engine would leave the multi-processing DirectRunner no stage to run after the Trainer.
PRODUCTION_BEAM = (
    "runner.beam={runner: direct, direct_running_mode: multi_processing, direct_num_workers: 2}",
    "stages.evaluation.engine=beam",
)


@dataclass
class ProductionRuns:
    db: Database
    root: Path
    interrupted: CliRun
    resumed: CliRun
    rerun: CliRun


@pytest.fixture(scope="module")
def production_runs(mariadb, sample_csv, tmp_path_factory) -> ProductionRuns:
    db = mariadb.create_database("taxi_e2e")
    root = tmp_path_factory.mktemp("mariadb-e2e")
    assert metadata_check(db, root, "--upgrade").returncode == 0
    sets = [*small_run_overrides(sample_csv, root), db.metadata_override, *PRODUCTION_BEAM]
    args = [str(Path(sys.executable).parent / "tfxgate"), "run", str(TAXI_CONFIG)]
    args += [item for s in sets for item in ("--set", s)]

    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=db.env)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("  -> Trainer"):
            mariadb.kill()  # the server dies while the Trainer runs
            break
    stdout, stderr = proc.communicate(timeout=900)
    interrupted = CliRun(proc.returncode, "".join(lines) + stdout, stderr, root)
    mariadb.resume()

    resumed = run_pipeline(sample_csv, root, db.metadata_override, *PRODUCTION_BEAM, env=db.env)
    rerun = run_pipeline(sample_csv, root, db.metadata_override, *PRODUCTION_BEAM, env=db.env, flags=("--full",))
    return ProductionRuns(db, root, interrupted, resumed, rerun)


def production_store(runs: ProductionRuns, monkeypatch):
    from tfxgate.mlmd.store import open_store
    from tfxgate.pipelines.config.root import load_config

    monkeypatch.setenv(runs.db.password_env, runs.db.password)
    config = load_config(TAXI_CONFIG, overrides=[runs.db.metadata_override])
    return open_store(config.metadata, root=runs.root, read_only=True)


def states_in_run(store, run_id: str) -> dict[str, list[int]]:
    per_node = executions_per_node(store, run_id)
    return {node: [e.last_known_state for e in runs] for node, runs in per_node.items() if node in COMPONENTS}


@pytest.mark.e2e
def test_server_lost_mid_run_fails_naming_the_component(production_runs):
    run = production_runs.interrupted
    assert run.returncode == 1, run.stdout + run.stderr
    assert "<- Trainer: failed" in run.stdout
    assert "FAILED in Trainer" in run.stdout
    assert f"lost ML Metadata at {production_runs.db.metadata_address}" in run.stdout
    assert "rerun to resume from cache" in run.stdout
    interrupted = run.summaries()[0]
    assert interrupted["failed_stage"] == "Trainer" and interrupted["pushed"] is None


@pytest.mark.e2e
def test_rerun_after_restart_resumes_from_cache_and_pushes_once(production_runs, monkeypatch):
    from ml_metadata.proto import metadata_store_pb2

    run = production_runs.resumed
    assert run.returncode == 0, run.stdout + run.stderr
    finished_before_the_server_died = ("Ingest", "ImportSchemaGen", "Validate", "DataDrift")
    for component in finished_before_the_server_died:
        assert f"<- {component}: cached (" in run.stdout
    for component in ("Trainer", "SliceEval", "GovernedPush"):
        assert f"<- {component}: complete (" in run.stdout
    assert f"metadata: {production_runs.db.metadata_address} (mysql)" in run.stdout
    assert re.search(r"evaluation: model \d+ BLESSED", run.stdout)

    store = production_store(production_runs, monkeypatch)
    pushed = [a for a in store.get_artifacts_by_type("PushedModel") if a.custom_properties["pushed"].int_value == 1]
    assert len(pushed) == 1
    resumed = run.summaries()[1]
    assert pushed_versions(production_runs.root / "serving") == [Path(resumed["pushed_to"]).name]
    complete = metadata_store_pb2.Execution.COMPLETE
    types = {t.id: t.name for t in store.get_execution_types()}
    trainers = [e for e in store.get_executions() if types[e.type_id].endswith(".Trainer")]
    assert [e.last_known_state for e in trainers].count(complete) == 1  # the interrupted one never counted as done


@pytest.mark.e2e
def test_unchanged_rerun_on_mariadb_is_fully_cached(production_runs, monkeypatch):
    from ml_metadata.proto import metadata_store_pb2

    run = production_runs.rerun
    assert run.returncode == 0, run.stdout + run.stderr
    assert "every stage was served from TFX's cache" in run.stdout
    assert len(pushed_versions(production_runs.root / "serving")) == 1
    assert not (production_runs.root / "metadata.sqlite").exists()

    store = production_store(production_runs, monkeypatch)
    _, resumed_id, rerun_id = (s["run_id"] for s in run.summaries())
    assert states_in_run(store, rerun_id) == {node: [metadata_store_pb2.Execution.CACHED] for node in COMPONENTS}
    assert set(states_in_run(store, resumed_id)) == COMPONENTS


@pytest.mark.e2e
def test_multi_processing_direct_runner_ran_the_beam_stages(production_runs):
    # Beam's SDK workers (separate processes) log the options they were started with.
    log = (production_runs.root / "logs" / "tfxgate.log").read_text(errors="replace")
    assert re.search(r"Worker: .*direct_num_workers\W+2\W+direct_running_mode\W+multi_processing", log)


@pytest.mark.e2e
def test_password_is_in_no_output_log_or_summary(production_runs):
    runs = production_runs
    for run in (runs.interrupted, runs.resumed, runs.rerun):
        assert_no_password(runs.db, run.stdout, run.stderr)
    files = [*runs.root.glob("logs/*"), *runs.root.glob("summaries/*")]
    assert files
    for path in files:
        assert_no_password(runs.db, path.read_text(errors="replace"))
