"""Shared fixtures: a small taxi sample, one real pipeline run (plus a rerun), the built wheel and "the image".

The end-to-end run is session-scoped: one first run and one cached rerun on a
3,000-row sample serve every e2e assertion, which keeps CI minutes down. So are
the wheel (built from a clean copy of the checkout) and the venv that stands in
for the Kubeflow image (the lock plus the wheel, outside the checkout), which
tests/test_wheel.py and tests/test_kubeflow_harness.py share.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

from tests.mariadb import MariaDB, ServerUnavailable

REPO = Path(__file__).resolve().parents[1]
TAXI_CONFIG = REPO / "configs" / "taxi.yaml"
TAXI_TRANSFORM_CONFIG = REPO / "configs" / "taxi_transform.yaml"


def taxi_csv() -> Path:
    """The 15k-row Chicago taxi sample that ships inside the tfx wheel."""
    spec = importlib.util.find_spec("tfx")
    return Path(list(spec.submodule_search_locations)[0]) / "examples/chicago_taxi_pipeline/data/simple/data.csv"


def taxi_rows(count: int) -> str:
    """The taxi header and its first `count` rows: the smallest data configs/taxi.yaml accepts
    (config loading checks the header against the schema's required columns)."""
    with taxi_csv().open() as handle:
        return "".join(next(handle) for _ in range(count + 1))


@pytest.fixture(scope="session")
def sample_csv(tmp_path_factory) -> Path:
    """Every 5th row of the taxi data (3,000 rows), so every feature keeps its values."""
    path = tmp_path_factory.mktemp("data") / "taxi_sample.csv"
    with taxi_csv().open() as src, path.open("w") as dst:
        dst.write(next(src))
        for i, line in enumerate(src):
            if i % 5 == 0:
                dst.write(line)
    return path


def small_run_overrides(sample: Path, root: Path) -> list[str]:
    """`--set` overrides that turn configs/taxi.yaml into a quick test run."""
    return [
        f"data.path={sample}",
        f"pipeline.root={root}",
        f"stages.push.root={root / 'serving'}",
        "stages.trainer.train_steps=60",
        "stages.trainer.eval_steps=10",
    ]


def free_port() -> int:
    """A loopback port nothing listens on (bound, then closed): a server that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    root: Path

    def summaries(self) -> list[dict]:
        files = sorted((self.root / "summaries").glob("*.json"), key=os.path.getmtime)
        return [json.loads(f.read_text()) for f in files]


def run_cli(*args: str, root: Path, timeout: int = 900, env: Optional[dict] = None) -> CliRun:
    """Runs the installed `tfxgate` command like a user would."""
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "tfxgate"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr, root)


def run_pipeline(
    sample: Path, root: Path, *extra: str, env: Optional[dict] = None, flags: tuple[str, ...] = ()
) -> CliRun:
    sets = [item for o in [*small_run_overrides(sample, root), *extra] for item in ("--set", o)]
    return run_cli("run", str(TAXI_CONFIG), *sets, *flags, root=root, env=env)


@dataclass
class TaxiRuns:
    first: CliRun
    rerun: CliRun
    root: Path


@pytest.fixture(scope="session")
def taxi_runs(sample_csv, tmp_path_factory) -> TaxiRuns:
    """The taxi pipeline from configs/taxi.yaml on the sample: a first run and an unchanged rerun.

    The rerun is `--full`: it goes through TFX, which serves every stage from its
    cache (a plain unchanged rerun stops before TFX: tests/test_startup.py).
    """
    root = tmp_path_factory.mktemp("taxi-e2e")
    first = run_pipeline(sample_csv, root)
    assert first.returncode == 0, first.stdout + first.stderr
    rerun = run_pipeline(sample_csv, root, flags=("--full",))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    return TaxiRuns(first, rerun, root)


@pytest.fixture(scope="session")
def taxi_transform_run(sample_csv, tmp_path_factory) -> CliRun:
    """configs/taxi_transform.yaml (stock TFX Transform before the Trainer) on the sample: one run.

    Session-scoped for every test of the Transform stage (and the Tuner's, which reuses its graph).
    """
    root = tmp_path_factory.mktemp("taxi-transform-e2e")
    tiny_search = ["stages.tune.max_trials=2", "stages.tune.train_steps=5", "stages.tune.eval_steps=2"]
    sets = [item for o in [*small_run_overrides(sample_csv, root), *tiny_search] for item in ("--set", o)]
    run = run_cli("run", str(TAXI_TRANSFORM_CONFIG), *sets, root=root)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


@pytest.fixture
def copied_root(taxi_runs, tmp_path) -> Path:
    """A private copy of the e2e root, so a test can add runs without disturbing others."""
    root = tmp_path / "root"
    shutil.copytree(taxi_runs.root, root, symlinks=True)
    return root


def repo_files() -> list[str]:
    """What a fresh clone of this working tree holds: tracked and new files, nothing ignored."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(name for name in out.split("\0") if name and os.path.lexists(REPO / name))


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The tfxgate wheel, built from a clean copy of the checkout (the files git would check out)."""
    source = tmp_path_factory.mktemp("clean-copy")
    for name in repo_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name, follow_symlinks=False)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(dist)],
        cwd=source,
        check=True,
    )
    (built,) = dist.glob("tfxgate-*.whl")
    return built


def dockerfile_env() -> dict[str, str]:
    """The environment the Dockerfile's `ENV` lines set in the image (KEY=VALUE pairs)."""
    found = {}
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("ENV "):
            found.update(pair.split("=", 1) for pair in line.split()[1:])
    return found


@dataclass
class WheelVenv:
    """A fresh venv outside the checkout holding the lock and the wheel: what the Dockerfile's image holds."""

    venv: Path
    env: dict[str, str]  # PATH leads to the venv; no PYTHONPATH, so nothing is imported from the checkout

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def tfxgate(self) -> Path:
        return self.venv / "bin" / "tfxgate"

    def run(self, command: list, *, cwd: Path, timeout: int = 300, exit_code: int = 0) -> subprocess.CompletedProcess:
        """Runs `command` in this environment; fails the test, with its output, unless it exits `exit_code`."""
        result = subprocess.run(
            [str(part) for part in command], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == exit_code, f"{command}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result


@pytest.fixture(scope="session")
def wheel_venv(wheel, tmp_path_factory) -> WheelVenv:
    """The wheel and requirements/lock.txt installed into a fresh venv, as the Dockerfile installs them."""
    base = tmp_path_factory.mktemp("wheel-venv")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{base / 'venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}", UV_PYTHON_DOWNLOADS="never")
    made = WheelVenv(base / "venv", env)
    uv = [Path(sys.executable).parent / "uv", "pip", "install", "--quiet", "--python", made.python, "--no-deps"]
    made.run(["python3.11", "-m", "venv", made.venv], cwd=base)
    made.run([*uv, "-r", REPO / "requirements" / "lock.txt"], cwd=base)
    made.run([*uv, wheel], cwd=base)
    made.run([made.python, "-m", "pip", "check"], cwd=base)  # install_requires hold against the lock
    return made


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory):
    """A real MariaDB for the session (see tests/mariadb.py); skipped, with the reason, only if none can start."""
    try:
        server = MariaDB.start(tmp_path_factory.mktemp("mariadb"))
    except ServerUnavailable as err:
        print(f"\nMySQL metadata tests skipped: {err}")
        pytest.skip(f"no MariaDB server could be started: {err}")
    yield server
    server.stop()


def _object_store(start, tmp_path_factory, name: str):
    """A session's object-store server with its env set in this process (restored after)."""
    from tests.object_store import ObjectStoreServer  # noqa: F401  (the type the fixture yields)
    from tfxgate.storage import filesystem

    server = start(tmp_path_factory.mktemp(name))
    saved = {key: os.environ.get(key) for key in server.env}
    os.environ.update(server.env)
    filesystem.reset_clients()
    yield server
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    filesystem.reset_clients()
    server.stop()


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory):
    """A GCS emulator on loopback for the session (tests/object_store.py): `.new_bucket()`, `.env`, `.endpoint`."""
    from tests.object_store import start_gcs

    yield from _object_store(start_gcs, tmp_path_factory, "gcs")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """An S3 server (moto) on loopback for the session (tests/object_store.py): `.new_bucket()`, `.env`."""
    from tests.object_store import start_s3

    yield from _object_store(start_s3, tmp_path_factory, "s3")


@pytest.fixture(scope="session")
def gcs_tf_env(gcs_server, tmp_path_factory):
    """TensorFlow's own `gs://` on the session's GCS emulator, through a TLS proxy (tests/gcs_tls_proxy.py).

    Yields the proxy: `.process_env()` is the environment for a subprocess that imports TF (its gfile, SavedModel
    and TFX `fileio` then reach the emulator as `gs://`), `.failures` every answer that was not 2xx/404.
    """
    from tests.gcs_tls_proxy import start_gcs_tls_proxy

    proxy = start_gcs_tls_proxy(gcs_server.endpoint, tmp_path_factory.mktemp("gcs-tls-proxy"))
    yield proxy
    proxy.stop()
