"""A Beam cluster on loopback: Beam's job service and N external SDK worker pools (`tfxgate beam-cluster`).

The same protocol Flink, Spark and Dataflow speak to Python (job service +
SDK workers over gRPC), on one machine, for development and tests:

- Beam's Python job service (`apache_beam.runners.portability.local_job_service_main`,
  through `beam_job_service.py`, which starts as many SDK workers as a job asks for);
- N worker pools, `apache_beam.runners.worker.worker_pool_main`, each forking
  one SDK worker process per `StartWorker` it receives;
- a router (`beam_pool_router.py`) at the one EXTERNAL address the job names,
  handing each requested worker to the next pool.

Every process runs in its own session (process group) with its log in the
state directory; `down` stops each group (SIGTERM, then SIGKILL), SDK workers
included, and checks that nothing is left. The state file (`cluster.json`)
holds the addresses, pids and the `runner.beam` settings that point a run at it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

STATE_FILE = "cluster.json"
DEFAULT_STATE_DIR = Path(".tfxgate") / "beam-cluster"
READY_TIMEOUT_S = 120.0
JOB_TIMEOUT_S = 24 * 3600


class ClusterError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def _start(name: str, args: list[str], *, state_dir: Path, env: Optional[dict] = None) -> dict:
    log = state_dir / f"{name}.log"
    # Beam's pool starts SDK workers as a bare `python`: the one on PATH must be this environment's.
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    env = {**os.environ, **(env or {}), "PATH": path}
    with open(log, "ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", *args],
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: `down` stops it with everything it forked
            env=env,
        )
    return {"name": name, "pid": process.pid, "log": str(log)}


def _wait_ready(processes: list[dict], *, timeout: float) -> None:
    import grpc

    deadline = time.monotonic() + timeout
    for process in processes:
        channel = grpc.insecure_channel(process["address"])
        try:
            grpc.channel_ready_future(channel).result(timeout=max(0.1, deadline - time.monotonic()))
        except grpc.FutureTimeoutError:
            alive = _alive(process["pid"])
            tail = Path(process["log"]).read_text(errors="replace")[-2000:]
            raise ClusterError(
                f"{process['name']} did not answer at {process['address']} within {timeout:.0f}s"
                f" ({'still running' if alive else 'exited'}); log {process['log']}:\n{tail}"
            ) from None
        finally:
            channel.close()


def up(
    *,
    workers: int,
    state_dir: Path = DEFAULT_STATE_DIR,
    timeout: float = READY_TIMEOUT_S,
    worker_env: Optional[dict] = None,
) -> dict:
    """Starts the job service, `workers` pools and their router; returns the state (also in `cluster.json`).

    `worker_env` is added to the pools' environment (their SDK workers inherit it): credentials
    for a file system, `TF_CPP_MIN_LOG_LEVEL`, ...
    """
    if workers < 1:
        raise ClusterError(f"--workers must be at least 1 (got {workers})")
    state_dir = Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    existing = state_dir / STATE_FILE
    if existing.exists() and any(_alive(p["pid"]) for p in read_state(state_dir)["processes"]):
        raise ClusterError(f"a cluster from {existing} is still running: `tfxgate beam-cluster down` first")
    pool_ports = [_free_port() for _ in range(workers)]
    job_port, router_port = _free_port(), _free_port()
    processes = []
    try:
        job = _start(
            "job_service",
            ["tfxgate.pipelines.beam_job_service", f"--port={job_port}", f"--staging_dir={state_dir / 'staging'}"],
            state_dir=state_dir,
        )
        processes.append({**job, "address": f"localhost:{job_port}"})
        for index, port in enumerate(pool_ports):
            pool = _start(
                f"worker_pool_{index}",
                ["apache_beam.runners.worker.worker_pool_main", f"--service_port={port}"],
                state_dir=state_dir,
                env=worker_env,
            )
            processes.append({**pool, "address": f"localhost:{port}"})
        pools = ",".join(f"localhost:{port}" for port in pool_ports)
        router = _start(
            "pool_router",
            ["tfxgate.pipelines.beam_pool_router", f"--port={router_port}", f"--pools={pools}"],
            state_dir=state_dir,
        )
        processes.append({**router, "address": f"localhost:{router_port}"})
        _wait_ready(processes, timeout=timeout)
    except BaseException:
        _stop(processes)
        raise
    state = {
        "workers": workers,
        "processes": processes,
        "beam": {
            "runner": "portable",
            "job_endpoint": f"localhost:{job_port}",
            "environment_type": "EXTERNAL",
            "environment_config": f"localhost:{router_port}",
            "sdk_worker_parallelism": workers,
            # Against Beam's Python job service the client opens its state and message streams
            # with --job_server_timeout as their deadline (portable_runner.py, `run`): a job
            # longer than that (default 60 s) fails with DEADLINE_EXCEEDED while still running.
            "options": [f"--job_server_timeout={JOB_TIMEOUT_S}"],
        },
    }
    (state_dir / STATE_FILE).write_text(json.dumps(state, indent=2))
    return state


def read_state(state_dir: Path = DEFAULT_STATE_DIR) -> dict:
    path = Path(state_dir) / STATE_FILE
    if not path.exists():
        raise ClusterError(f"no cluster state at {path}: start one with `tfxgate beam-cluster up`")
    return json.loads(path.read_text())


def set_flags(state: dict) -> list[str]:
    """`--set` arguments that point `tfxgate run` at the cluster."""
    sets = [f"runner.beam.{key}={value}" for key, value in state["beam"].items() if key != "options"]
    sets.append(f"runner.beam.options=[{', '.join(state['beam']['options'])}]")
    return [item for value in sets for item in ("--set", value)]


def config_snippet(state: dict) -> str:
    """The `runner.beam:` YAML that points a config at the cluster."""
    lines = ["runner:", "  beam:"] + [f"    {key}: {value}" for key, value in state["beam"].items() if key != "options"]
    lines += ["    options:"] + [f"      - {option}" for option in state["beam"]["options"]]
    return "\n".join(lines)


def status(state_dir: Path = DEFAULT_STATE_DIR) -> list[dict]:
    """Each process of the cluster with `running` (pid alive) and `answering` (gRPC channel ready)."""
    import grpc

    found = []
    for process in read_state(state_dir)["processes"]:
        channel = grpc.insecure_channel(process["address"])
        try:
            grpc.channel_ready_future(channel).result(timeout=2)
            answering = True
        except grpc.FutureTimeoutError:
            answering = False
        finally:
            channel.close()
        found.append({**process, "running": _alive(process["pid"]), "answering": answering})
    return found


def down(state_dir: Path = DEFAULT_STATE_DIR) -> list[dict]:
    """Stops every process group of the cluster; raises if anything is left running. Returns what it stopped."""
    state = read_state(state_dir)
    _stop(state["processes"])
    left = [p for p in state["processes"] if _group_alive(p["pid"])]
    if left:
        raise ClusterError("still running after SIGKILL: " + ", ".join(f"{p['name']} (pid {p['pid']})" for p in left))
    (Path(state_dir) / STATE_FILE).unlink()
    return state["processes"]


def _stop(processes: list[dict], *, grace: float = 10.0) -> None:
    for process in processes:
        _signal_group(process["pid"], signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_group_alive(p["pid"]) for p in processes):
        time.sleep(0.1)
    for process in processes:
        _signal_group(process["pid"], signal.SIGKILL)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_group_alive(p["pid"]) for p in processes):
        time.sleep(0.1)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the group id is the leader's pid (start_new_session)
    except ProcessLookupError:
        pass
    _reap(pid)


def _reap(pid: int) -> None:
    """Collects an exited child of this process (when `up` ran here), so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _alive(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _zombie(pid)


def _group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process is left in the group."""
    _reap(pgid)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(entry)
    return bool(members)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False
