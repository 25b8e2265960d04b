"""Real object-store servers on loopback for tests: a GCS emulator and an S3 server (moto), each its own process.

    server = start_gcs(tmp_dir)             # gcp-storage-emulator, HTTP on 127.0.0.1:<free port>
    bucket = server.new_bucket("serving")   # a fresh bucket: gs://serving-<n>
    env = server.env                        # what a client process needs (STORAGE_EMULATOR_HOST, ...)
    server.stop()

tests/conftest.py wraps them in session fixtures (`gcs_server`, `s3_server`);
the fixtures also set `env` in this process, so `tfxgate.storage.filesystem`
reaches the server, and a subprocess started with `os.environ` does too. The
servers speak the real HTTP APIs (JSON API for GCS, REST for S3): nothing in the
client is patched. Reusable outside pytest (e.g. to execute a compiled spec
against a `gs://` root): `start_gcs(folder)` gives an endpoint, buckets and env.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent


@dataclass
class ObjectStoreServer:
    """One server process: its scheme, endpoint and the environment a client needs."""

    scheme: str  # "gs" | "s3"
    endpoint: str  # http://127.0.0.1:<port>
    env: dict[str, str]
    process: subprocess.Popen
    log: Path
    _count: itertools.count = field(default_factory=itertools.count)

    def new_bucket(self, prefix: str = "tfxgate") -> str:
        """Creates a bucket no other test uses; returns its URI (`gs://name`)."""
        name = f"{prefix}-{os.getpid()}-{next(self._count)}"
        if self.scheme == "gs":
            from google.cloud import storage

            storage.Client().create_bucket(name)
        else:
            import boto3

            boto3.client("s3").create_bucket(Bucket=name)
        return f"{self.scheme}://{name}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gcs(folder: Path) -> ObjectStoreServer:
    """A GCS emulator (`gcp-storage-emulator`, in memory) on a free loopback port.

    `env`: STORAGE_EMULATOR_HOST (google-cloud-storage, and so Beam's gcsio and
    tfxgate's filesystem layer), CLOUD_STORAGE_EMULATOR_ENDPOINT (the C++ client),
    and a project name so the client asks no metadata server.
    """
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "STORAGE_EMULATOR_HOST": endpoint,
        "CLOUD_STORAGE_EMULATOR_ENDPOINT": endpoint,
        "GOOGLE_CLOUD_PROJECT": "tfxgate-test",
    }
    command = [str(BIN / "gcp-storage-emulator"), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
    return _start("gs", endpoint, env, command, Path(folder) / "gcs-emulator.log")


def start_s3(folder: Path) -> ObjectStoreServer:
    """An S3 server (`moto` in server mode) on a free loopback port, with test credentials in `env`."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    command = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    return _start("s3", endpoint, env, command, Path(folder) / "moto-s3.log")


def _start(scheme: str, endpoint: str, env: dict, command: list[str], log: Path) -> ObjectStoreServer:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env})
    port = int(endpoint.rsplit(":", 1)[1])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return ObjectStoreServer(scheme, endpoint, env, process, log)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command[0]} did not listen on {endpoint} within 60 s: {log.read_text()[-2000:]}")
