"""`tfxgate submit` against a local HTTP server that records requests in KFP's v2beta1 shapes."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import TAXI_CONFIG, CliRun
from tfxgate.pipelines.kubeflow.submit import SubmitError, check_reachable, kfp_cron

API = "/apis/v2beta1"


class FakeKfp(BaseHTTPRequestHandler):
    """Answers the calls the kfp client makes, as KFP's API server would, and records them."""

    requests: list[dict] = []

    def _reply(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        url = urlparse(self.path)
        entry = {"method": self.command, "path": url.path, "query": parse_qs(url.query), "body": body}
        entry["authorization"] = self.headers.get("Authorization")
        self.requests.append(entry)
        return entry

    def do_GET(self):  # noqa: N802 (http.server's naming)
        entry = self._record()
        if entry["path"] == f"{API}/healthz":
            self._reply({"multi_user": False})
        elif entry["path"] == f"{API}/experiments":
            self._reply({"experiments": [], "total_size": 0})
        else:
            self.send_error(404)

    def do_POST(self):  # noqa: N802
        entry = self._record()
        body = entry["body"]
        if entry["path"] == f"{API}/experiments":
            self._reply({**body, "experiment_id": "exp-1"})
        elif entry["path"] == f"{API}/runs":
            self._reply({**body, "run_id": "run-1", "state": "PENDING"})
        elif entry["path"] == f"{API}/recurringruns":
            self._reply({**body, "recurring_run_id": "rr-1", "status": "ENABLED"})
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture
def kfp_server():
    FakeKfp.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeKfp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", FakeKfp.requests
    server.shutdown()


def _submit(host, tmp_path, capsys, monkeypatch, *extra, env_token=None):
    """`tfxgate submit` in this process (TFX is imported once per session, not per call)."""
    from tfxgate.cli import main as cli

    if env_token:
        monkeypatch.setenv("KF_PIPELINES_TOKEN", env_token)
    # A local pipeline root: no wheel upload to a bucket from the test.
    sets = [f"pipeline.root={tmp_path}", f"kubeflow.pipeline_root={tmp_path / 'kfp-root'}"]
    args = ["submit", str(TAXI_CONFIG), "--host", host, *[x for s in sets for x in ("--set", s)], *extra]
    code = cli.main(args)
    out, err = capsys.readouterr()
    return CliRun(code, out, err, tmp_path)


def _posts(requests, path):
    return [r for r in requests if r["method"] == "POST" and r["path"] == f"{API}/{path}"]


def test_submit_creates_experiment_and_run(kfp_server, tmp_path, capsys, monkeypatch):
    host, requests = kfp_server
    result = _submit(
        host,
        tmp_path,
        capsys,
        monkeypatch,
        "--experiment",
        "nightly",
        "--namespace",
        "team-a",
        env_token="secret-token",
    )
    assert result.returncode == 0, result.stderr
    assert "run run-1 of 'taxi' started in experiment nightly" in result.stdout
    [experiment] = _posts(requests, "experiments")
    assert experiment["body"]["display_name"] == "nightly" and experiment["body"]["namespace"] == "team-a"
    [run] = _posts(requests, "runs")
    body = run["body"]
    assert body["experiment_id"] == "exp-1" and body["display_name"] == "taxi"
    assert body["service_account"] == "pipeline-runner"
    assert body["runtime_config"]["pipeline_root"] == str(tmp_path / "kfp-root")
    spec = body["pipeline_spec"]
    assert spec["pipelineInfo"]["name"] == "taxi" and "Trainer" in spec["root"]["dag"]["tasks"]
    assert spec["deploymentSpec"]["executors"]["Trainer_executor"]["container"]["image"] == "tfxgate:0.1.0"
    assert all(r["authorization"] == "Bearer secret-token" for r in requests if r["method"] == "POST")


def test_submit_refuses_an_image_without_tfxgate_before_contacting_the_host(kfp_server, tmp_path, capsys, monkeypatch):
    host, requests = kfp_server
    stock = "gcr.io/tfx-oss-public/tfx:1.16.0"
    before = len(requests)
    result = _submit(host, tmp_path, capsys, monkeypatch, "--set", f"kubeflow.image={stock}")
    assert result.returncode == 2
    assert f"kubeflow.image {stock} has no tfxgate in it" in result.stderr and f"--image {stock}" in result.stderr
    assert len(requests) == before  # nothing was sent
    forced = _submit(host, tmp_path, capsys, monkeypatch, "--set", f"kubeflow.image={stock}", "--image", stock)
    assert forced.returncode == 0, forced.stderr
    [*_, run] = _posts(requests, "runs")
    assert (
        run["body"]["pipeline_spec"]["deploymentSpec"]["executors"]["Trainer_executor"]["container"]["image"] == stock
    )


def test_submit_with_schedule_creates_a_recurring_run(kfp_server, tmp_path, capsys, monkeypatch):
    host, requests = kfp_server
    result = _submit(host, tmp_path, capsys, monkeypatch, "--schedule", "0 3 * * *")
    assert result.returncode == 0, result.stderr
    assert "recurring run rr-1 of 'taxi' created" in result.stdout
    assert not _posts(requests, "runs")
    [recurring] = _posts(requests, "recurringruns")
    body = recurring["body"]
    assert body["trigger"] == {"cron_schedule": {"cron": "0 0 3 * * *"}}
    assert int(body["max_concurrency"]) == 1
    assert body["mode"] == "ENABLE" and body["experiment_id"] == "exp-1"
    assert body["pipeline_spec"]["pipelineInfo"]["name"] == "taxi"


def test_unreachable_host_fails_fast_with_a_clear_message(tmp_path, capsys, monkeypatch):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _submit(f"http://127.0.0.1:{port}", tmp_path, capsys, monkeypatch)
    assert result.returncode == 1
    assert f"cannot reach Kubeflow Pipelines at http://127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_reachable_accepts_any_http_answer(kfp_server):
    host, _ = kfp_server
    check_reachable(host + "/nothing-here")  # 404 still means a server answered


@pytest.mark.parametrize(("given", "expected"), [("0 3 * * *", "0 0 3 * * *"), ("30 0 3 * * 1-5", "30 0 3 * * 1-5")])
def test_cron_becomes_kfp_six_field_cron(given, expected):
    assert kfp_cron(given) == expected


def test_malformed_cron_is_refused():
    with pytest.raises(SubmitError, match="--schedule 'every day'"):
        kfp_cron("every day")
