"""TensorFlow's built-in `gs://` client and TFX's `fileio` against the GCS emulator, through tests/gcs_tls_proxy.py.

The first step towards a pipeline root on `gs://` in the tests (issue 18): TF
2.16 only talks to `https://*.googleapis.com`, so a loopback TLS proxy with a
per-session CA stands in for Google's front end. One subprocess (TF imported
there only, tests/gcs_tf_probe.py) does a gfile round trip (makedirs, write,
read, listdir, glob, rename of a file and of a directory, rmtree), saves and
loads a tiny SavedModel, and writes/reads through TFX's `fileio`; the objects
it leaves are then read back with google-cloud-storage, which talks to the
emulator directly.
"""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import sys
from pathlib import Path

from tfxgate.storage import filesystem

PROBE = Path(__file__).with_name("gcs_tf_probe.py")


def test_tensorflow_gs_client_reaches_the_emulator_through_the_proxy(gcs_server, gcs_tf_env):
    bucket = gcs_server.new_bucket("tfroot")
    env = gcs_tf_env.process_env() | {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(PROBE.parents[1])}
    result = subprocess.run([sys.executable, str(PROBE), bucket], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    facts = json.loads(result.stdout.strip().splitlines()[-1])

    assert facts["gfile"] == {
        "isdir": True,
        "read": "hello gcs\n",
        "listdir": ["b/", "f.txt"],
        "glob": [f"{bucket}/gfile/a/f.txt"],
        "renamed": [False, True],
        "moved": ["b/", "g.txt"],
        "after_rmtree": [False, False],
    }
    assert facts["saved_model"] == [3.0, 6.0]
    assert {"saved_model.pb", "variables/"} <= set(facts["saved_model_files"])
    assert facts["fileio"] == {"read": "tfx", "listdir": ["x.txt"], "isdir": True}
    assert gcs_tf_env.failures == []
    # what TF wrote is real objects on the emulator: google-cloud-storage (no proxy) reads them back
    assert filesystem.read_text(f"{bucket}/pipeline_root/Trainer/model/1/x.txt") == "tfx"
    assert filesystem.exists(f"{bucket}/model/1/saved_model.pb")


def test_a_rejected_request_is_logged_not_retried_in_silence(gcs_tf_env, caplog):
    """An emulator gap (an answer neither 2xx nor 404) reaches the log and `failures` at once, with the request."""
    proxy_port = int(gcs_tf_env.env["HTTPS_PROXY"].rsplit(":", 1)[1])
    tls = ssl.create_default_context(cafile=gcs_tf_env.env["CURL_CA_BUNDLE"])  # the session's own CA
    connection = http.client.HTTPSConnection("127.0.0.1", proxy_port, context=tls, timeout=30)
    connection.set_tunnel("storage.googleapis.com", 443)
    before = len(gcs_tf_env.failures)
    try:
        connection.request("POST", "/storage/v1/b?project=x", body=b"{}", headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())["error"]["message"]) == (400, "Empty bucket name")
        connection.request("GET", "/storage/v1/b/no-such-bucket/o/x")  # a 404 is an answer TF expects: not logged
        assert connection.getresponse().status == 404
    finally:
        connection.close()
    # The proxy is the session's: take back the gap this test caused, or every later test that asserts its own
    # requests met no gap (the Kubeflow harness) would fail on it.
    caused = gcs_tf_env.failures[before:]
    del gcs_tf_env.failures[before:]
    assert caused == [
        'POST storage.googleapis.com/storage/v1/b?project=x -> 400: b\'{"error": {"errors": [{"domain": "global", '
        '"reason": "invalid", "message": "Empty bucket name"}], "code": 400, "message": "Empty bucket name"}}\''
    ]
    assert "GCS emulator gap: POST storage.googleapis.com/storage/v1/b?project=x -> 400" in caplog.text
