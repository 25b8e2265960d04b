"""Who this process is in a multi-worker training cluster, and where it may save the model.

`tf.distribute.MultiWorkerMirroredStrategy` runs the same trainer code in every
process of a cluster that TF_CONFIG describes (Vertex AI sets it on each replica;
`tfxgate.training.launch` sets it on loopback). Every process takes part in every
step and in the save (saving is collective), but only the chief's copy may land
where the model is expected: TF's guide "Multi-worker training with Keras"
(Model saving) has the other workers save to a temporary directory and delete it.
No TensorFlow import: this reads the environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
from typing import Iterator, Mapping, Optional

TF_CONFIG = "TF_CONFIG"


def task(environ: Optional[Mapping[str, str]] = None) -> tuple[str, int]:
    """(task type, index) from TF_CONFIG; ("chief", 0) outside a cluster."""
    config = json.loads((os.environ if environ is None else environ).get(TF_CONFIG) or "{}")
    if not config.get("cluster"):
        return "chief", 0
    spec = config.get("task") or {}
    return str(spec.get("type", "chief")), int(spec.get("index", 0))


def size(environ: Optional[Mapping[str, str]] = None) -> int:
    """Training processes in the TF_CONFIG cluster (chief and workers; 1 outside a cluster)."""
    config = json.loads((os.environ if environ is None else environ).get(TF_CONFIG) or "{}")
    jobs = config.get("cluster") or {}
    return max(1, sum(len(jobs.get(job) or []) for job in ("chief", "master", "worker")))


def is_chief(environ: Optional[Mapping[str, str]] = None) -> bool:
    """True for the process whose model is the model: the chief, or worker 0 of a cluster without one.

    The same rule as TF's `multi_worker_util.is_chief` (and TFX's `master` 0).
    """
    config = json.loads((os.environ if environ is None else environ).get(TF_CONFIG) or "{}")
    kind, index = task(environ)
    if kind in ("chief", "master"):
        return index == 0
    has_chief = bool(config.get("cluster", {}).get("chief") or config.get("cluster", {}).get("master"))
    return kind == "worker" and index == 0 and not has_chief


@contextlib.contextmanager
def model_dir(path: str, *, environ: Optional[Mapping[str, str]] = None) -> Iterator[str]:
    """The directory this task saves the model to: `path` on the chief, a temporary one elsewhere.

    A worker's directory is removed when the block ends, so only the chief's
    export remains (every task must still call save: it is a collective step).

    >>> with model_dir("/models/serving") as target:
    ...     target
    '/models/serving'
    """
    if is_chief(environ):
        yield path
        return
    kind, index = task(environ)
    temporary = tempfile.mkdtemp(prefix=f"tfxgate-{kind}-{index}-")
    try:
        yield os.path.join(temporary, os.path.basename(path.rstrip("/")) or "model")
    finally:
        shutil.rmtree(temporary)


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports that were free a moment ago (all held open at once, then closed)."""
    sockets = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            sockets.append(probe)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for probe in sockets:
            probe.close()


def loopback_cluster(processes: int) -> list[dict]:
    """TF_CONFIG of each process of a chief + (processes - 1) workers on this machine, chief first."""
    if processes < 1:
        raise ValueError(f"a cluster needs at least one process, not {processes}")
    ports = free_ports(processes)
    cluster = {"chief": [f"localhost:{ports[0]}"]}
    if processes > 1:
        cluster["worker"] = [f"localhost:{port}" for port in ports[1:]]
    tasks = [("chief", 0)] + [("worker", i) for i in range(processes - 1)]
    return [{"cluster": cluster, "task": {"type": kind, "index": index}} for kind, index in tasks]
