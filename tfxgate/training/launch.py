"""Run a trainer's `run_fn` as a chief plus workers on this machine, each process with its TF_CONFIG.

What `stages.trainer.local_workers: N` does on the local runner (and in a
Kubeflow pod): N processes on loopback ports, the same `run_fn` and the same
arguments in each (python -m tfxgate.training.task). This is how a multi-worker
trainer module is exercised before it meets a real cluster (Vertex AI sets
TF_CONFIG on each replica itself); on one machine it does not train faster than
one process. Each process's output goes to `<log_dir>/<type>-<index>.log`.
A failed process fails the whole cluster: the others would wait for it in
their next collective, so they are stopped.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from tfxgate.training.cluster import TF_CONFIG, loopback_cluster

log = logging.getLogger(__name__)


class ClusterError(RuntimeError):
    """A process of a loopback training cluster failed (the message names it and ends with its log)."""


@dataclass(frozen=True)
class Process:
    task: str  # "chief-0", "worker-0", ...
    returncode: int
    log: Path


def _tail(path: Path, chars: int = 3000) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-chars:]


def run_cluster(
    spec: dict[str, Any],
    *,
    processes: int,
    log_dir: Path,
    timeout_s: Optional[float] = None,
) -> list[Process]:
    """Runs `spec` (see `tfxgate.training.task`) in `processes` processes; returns them once all exit 0.

    Raises:
      ClusterError: a process exited non-zero or the cluster ran past `timeout_s`.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    spec_path = log_dir / "task_spec.json"
    spec_path.write_text(json.dumps({**spec, "sys_path": [p for p in sys.path if p]}, indent=2, default=str))
    running = []
    for tf_config in loopback_cluster(processes):
        name = f"{tf_config['task']['type']}-{tf_config['task']['index']}"
        path = log_dir / f"{name}.log"
        env = {**os.environ, TF_CONFIG: json.dumps(tf_config)}
        with path.open("w") as output:
            command = [sys.executable, "-m", "tfxgate.training.task", str(spec_path)]
            proc = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
        log.info("training process %s (pid %d) started; output in %s", name, proc.pid, path)
        running.append((name, proc, path))
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    try:
        while True:
            failed = [(n, p, f) for n, p, f in running if p.poll() not in (None, 0)]
            if failed:
                name, proc, path = failed[0]
                message = f"training process {name} exited with {proc.returncode} (its log: {path})"
                raise ClusterError(f"{message}:\n{_tail(path)}")
            if all(proc.poll() == 0 for _, proc, _ in running):
                break
            if deadline is not None and time.monotonic() > deadline:
                raise ClusterError(f"training cluster of {processes} processes ran past {timeout_s} s ({log_dir})")
            time.sleep(0.2)
    finally:
        for name, proc, _ in running:
            if proc.poll() is None:
                log.error("stopping training process %s (pid %d): its cluster failed", name, proc.pid)
                proc.kill()
                proc.wait()
    return [Process(name, proc.returncode, path) for name, proc, path in running]
