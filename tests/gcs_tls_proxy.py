"""A loopback HTTPS proxy that lets TensorFlow's built-in `gs://` client reach the GCS emulator (tests/object_store.py).

TensorFlow 2.16's GCS filesystem has no endpoint setting: it always calls
`https://*.googleapis.com`. Its libcurl does honour `https_proxy` and
`CURL_CA_BUNDLE`, and `GOOGLE_AUTH_TOKEN_FOR_TESTING` skips OAuth. So this proxy
answers CONNECT, terminates TLS with a leaf certificate for `*.googleapis.com`
signed by a CA made fresh for each proxy, and forwards the plain HTTP requests
to the emulator with the Host rewritten:

    proxy = start_gcs_tls_proxy(gcs_server.endpoint, folder)
    subprocess.run([...], env=proxy.process_env())   # a TF process: gs:// lands on the emulator
    proxy.failures                                    # every answer that was not 2xx/404
    proxy.stop()

Two emulator gaps are bridged here: a resumable upload's `Location` is pointed
back at `https://` (TF would otherwise talk plain HTTP to the proxy), and TF's
directory markers (empty objects named `dir/`, which the emulator can neither
store nor list) are kept in the proxy's memory, answered on stat/delete/rename
and added to listings. So markers are visible to TF only, not to
google-cloud-storage or Beam's gcsio, which talk to the emulator directly.

Every answer that is neither 2xx nor 404 is logged as a warning and kept in
`failures`: TF retries a rejected request ten times in silence, which
otherwise looks like a hang.
"""

from __future__ import annotations

import datetime
import http.client
import json
import logging
import os
import socketserver
import ssl
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from tests.object_store import free_port

log = logging.getLogger(__name__)

HOSTS = ["www.googleapis.com", "storage.googleapis.com", "oauth2.googleapis.com", "*.googleapis.com"]
MARKER_METADATA = {"size": "0", "generation": "1", "updated": "2026-01-01T00:00:00.000Z"}
# the emulator's variables would send TF's modular plugin or google-cloud-storage elsewhere; a TF process through the
# proxy needs neither for gs:// (tfxgate's own layer keeps STORAGE_EMULATOR_HOST when the caller sets it)
TF_UNSET = ("CLOUD_STORAGE_EMULATOR_ENDPOINT",)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a leaf for `*.googleapis.com`: returns (ca.pem, leaf chain .pem, leaf .key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    def certificate(subject, issuer, key, signing_key, *, ca: bool, hosts=()):
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if hosts:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False
            )
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate(name("tfxgate test CA"), name("tfxgate test CA"), ca_key, ca_key, ca=True)
    leaf = certificate(name(HOSTS[0]), ca.subject, leaf_key, ca_key, ca=False, hosts=HOSTS)
    pem = serialization.Encoding.PEM
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "ca.pem", folder / "leaf.pem", folder / "leaf.key"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    key = leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    paths[2].write_bytes(key)
    return paths


def _read_head(stream) -> tuple[str | None, list[tuple[str, str]]]:
    line = stream.readline()
    if not line:
        return None, []
    headers = []
    while (header := stream.readline()) not in (b"\r\n", b"\n", b""):
        key, _, value = header.decode("latin-1").partition(":")
        headers.append((key.strip(), value.strip()))
    return line.decode("latin-1").rstrip("\r\n"), headers


def _read_body(stream, out, headers) -> bytes:
    named = {k.lower(): v for k, v in headers}
    if named.get("expect", "").lower() == "100-continue":
        out.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        out.flush()
    if "chunked" not in named.get("transfer-encoding", "").lower():
        return stream.read(int(named.get("content-length", 0)))
    body = b""
    while size := int(stream.readline().split(b";")[0], 16):
        body += stream.read(size)
        stream.readline()
    while stream.readline() not in (b"\r\n", b"\n", b""):  # trailers
        pass
    return body


class _Handler(socketserver.StreamRequestHandler):
    server: _ProxyServer

    def handle(self):
        line, headers = _read_head(self.rfile)
        if line is None:
            return
        method, target, _ = line.split(" ", 2)
        if method != "CONNECT":  # plain HTTP through the proxy: an absolute URI
            url = urllib.parse.urlsplit(target)
            path = url.path + (f"?{url.query}" if url.query else "")
            self.server.forward(method, url.hostname, path, headers, self.rfile, self.wfile)
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        tls = self.server.tls.wrap_socket(self.request, server_side=True)
        stream, out = tls.makefile("rb"), tls.makefile("wb")
        host = target.split(":")[0]
        while (head := _read_head(stream))[0] is not None:
            method, path, _ = head[0].split(" ", 2)
            self.server.forward(method, host, path, head[1], stream, out)


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, upstream: str, tls: ssl.SSLContext, failures: list[str]):
        super().__init__(address, _Handler)
        self.upstream = urllib.parse.urlsplit(upstream)
        self.tls = tls
        self.failures = failures
        self.markers: set[tuple[str, str]] = set()  # (bucket, "dir/")
        self.lock = threading.Lock()

    def forward(self, method: str, host: str, path: str, headers, stream, out) -> None:
        body = _read_body(stream, out, headers)
        url = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(url.query)
        name = urllib.parse.unquote(url.path.split("/o/", 1)[1]) if "/o/" in url.path else query.get("name", [""])[0]
        if "/b/" in url.path and name.endswith("/"):
            status, data, response_headers = *self._marker(method, url.path, name), []
        else:
            status, data, response_headers = self._emulator(method, path, headers, body)
            if method == "GET" and status == 200 and "/b/" in url.path and url.path.endswith("/o"):
                data = self._with_markers(url.path, query, data)
        if not (200 <= status < 300 or status == 404):
            self.failures.append(f"{method} {host}{path} -> {status}: {data[:300]!r}")
            log.warning("GCS emulator gap: %s", self.failures[-1])
        head = [f"HTTP/1.1 {status} X\r\n"]
        for key, value in response_headers:
            if key.lower() == "location":  # a resumable upload's session URI: back to Google's https host
                value = value.replace(f"http://{self.upstream.netloc}", f"https://{host}")
            head.append(f"{key}: {value}\r\n")
        head.append(f"Content-Length: {len(data)}\r\n\r\n")
        out.write("".join(head).encode("latin-1") + (data if method != "HEAD" else b""))
        out.flush()

    def _emulator(self, method: str, path: str, headers, body: bytes):
        skip = {"host", "transfer-encoding", "expect", "proxy-connection", "connection", "content-length"}
        forwarded = {k: v for k, v in headers if k.lower() not in skip} | {"Host": self.upstream.netloc}
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            send = body if body or method in ("POST", "PUT", "PATCH") else None
            connection.request(method, path, body=send, headers=forwarded)
            response = connection.getresponse()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in skip]
            return response.status, response.read(), kept
        finally:
            connection.close()

    def _marker(self, method: str, path: str, name: str) -> tuple[int, bytes]:
        """A directory marker, kept here: the emulator cannot store an empty object named `dir/`."""
        bucket = path.split("/b/", 1)[1].split("/", 1)[0]
        with self.lock:
            if method == "POST" and "/rewriteTo/" in path:  # copy (TF's rename): .../o/SRC/rewriteTo/b/B/o/DST
                source, target = path.split("/o/", 1)[1].split("/rewriteTo/b/")
                target_bucket, target_name = target.split("/o/", 1)
                if (bucket, urllib.parse.unquote(source)) not in self.markers:
                    return 404, b""
                self.markers.add((target_bucket, urllib.parse.unquote(target_name)))
                resource = {"bucket": target_bucket, "name": urllib.parse.unquote(target_name), "size": "0"}
                done = {"kind": "storage#rewriteResponse", "done": True, "totalBytesRewritten": "0"}
                return 200, json.dumps({**done, "objectSize": "0", "resource": resource}).encode()
            if method == "POST":
                self.markers.add((bucket, name))
                return 200, json.dumps({"bucket": bucket, "name": name, **MARKER_METADATA}).encode()
            known = (bucket, name) in self.markers
            if method == "GET":
                return (200, json.dumps(MARKER_METADATA).encode()) if known else (404, b"")
            if method == "DELETE":
                self.markers.discard((bucket, name))
                return (204, b"") if known else (404, b"")
        return 400, f"the proxy keeps directory markers; it has no {method} for them".encode()

    def _with_markers(self, path: str, query: dict, data: bytes) -> bytes:
        """A listing with the markers under its prefix: one level down they are prefixes, at the prefix an item."""
        bucket = path.split("/b/", 1)[1].split("/", 1)[0]
        prefix = query.get("prefix", [""])[0]
        listing = json.loads(data or b"{}")
        names = {item["name"] for item in listing.get("items", [])}
        with self.lock:
            extra = sorted(n for b, n in self.markers if b == bucket and n.startswith(prefix) and n not in names)
        if "delimiter" in query:
            below = {prefix + n[len(prefix) :].split("/", 1)[0] + "/" for n in extra if n != prefix}
            listing["prefixes"] = sorted(set(listing.get("prefixes", [])) | below)
            extra = [n for n in extra if n == prefix]
        if not extra and "delimiter" not in query:
            return data
        listing["items"] = listing.get("items", []) + [{"name": n} for n in extra]
        return json.dumps(listing).encode()


@dataclass
class GcsTlsProxy:
    """The running proxy: `env` is what a TensorFlow process needs to reach the emulator as `gs://`."""

    env: dict[str, str]
    failures: list[str]
    server: _ProxyServer
    thread: threading.Thread = field(repr=False)

    def process_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """`base` (default: this process's environment) plus `env`, less the variables TF must not see."""
        merged = {**(os.environ if base is None else base), **self.env}
        return {k: v for k, v in merged.items() if k not in TF_UNSET}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def start_gcs_tls_proxy(emulator_endpoint: str, folder: Path) -> GcsTlsProxy:
    """Starts the proxy in a thread of this process, on a free loopback port, in front of `emulator_endpoint`."""
    ca, chain, key = make_certificates(Path(folder))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(chain, key)
    failures: list[str] = []
    server = _ProxyServer(("127.0.0.1", free_port()), emulator_endpoint, tls, failures)
    thread = threading.Thread(target=server.serve_forever, name="gcs-tls-proxy", daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{server.server_address[1]}"
    env = {
        "https_proxy": address,
        "HTTPS_PROXY": address,
        "CURL_CA_BUNDLE": str(ca),
        "GOOGLE_AUTH_TOKEN_FOR_TESTING": "tfxgate-test",  # TF's GCS client then asks no OAuth server
        "no_proxy": "127.0.0.1,localhost",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    return GcsTlsProxy(env, failures, server, thread)
