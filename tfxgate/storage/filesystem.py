"""The one filesystem layer for every path the config accepts: local paths, `gs://` and `s3://` URIs.

tfxgate's own reads and writes outside ML Metadata (the push root and its
versions, input data, drift tables) go through here, by scheme:

- local paths: `os` (atomic writes through `storage.atomic`);
- `gs://`: `google-cloud-storage`, the client Beam's own `gcsio` uses; it honours
  `STORAGE_EMULATOR_HOST` (tests/object_store.py starts an emulator on loopback);
- `s3://`: `boto3`, which honours `AWS_ENDPOINT_URL` and the usual `AWS_*` variables.

TFX writes the pipeline root's artifacts itself, through `tfx.dsl.io.fileio`
(`tf.io.gfile`): TensorFlow 2.16 has `gs://` built in, but `s3://` needs
`tensorflow-io`, which the lock does not carry, so `check_uri` refuses an `s3://`
pipeline root naming the key. Arrow reads a remote file through `open_input`
(a file object `pyarrow.csv`/`pyarrow.parquet` accept). Clients are imported
lazily: `check`, `history` and `approve` on local paths import neither, nor TensorFlow.

A remote location is a `RemotePath` (never a `pathlib.Path`, which turns
`gs://b/x` into `gs:/b/x`); `location()` gives the right one for a string.
An object store has no directories: a "directory" is a key prefix ending in `/`.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path
from typing import IO, Union

from tfxgate.storage import atomic, strict_json

SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
OBJECT_STORES = ("gs", "s3")
# What each config key can hold, by scheme ("" is a local path). The local runner keeps its run lock,
# logs, summaries and (by default) the SQLite store under `pipeline.root`, so it is a local folder;
# a cluster's artifact root is `kubeflow.pipeline_root`. The metadata store is a local SQLite file or a server.
ACCEPTED = {
    "pipeline.root": ("",),
    "stages.push.root": ("", "gs", "s3"),
    "data.path": ("", "gs", "s3"),
    "schema": ("",),
    "metadata.path": ("",),
}


def scheme(path: Union[str, os.PathLike, RemotePath]) -> str:
    """The URI scheme of `path` ("gs", "s3", ...), or "" for a local path."""
    found = SCHEME.match(str(path))
    return found.group(1).lower() if found else ""


def is_remote(path) -> bool:
    """Whether `path` names an object store (or any other URI with a scheme)."""
    return isinstance(path, RemotePath) or scheme(path) != ""


WHY_LOCAL = {
    "pipeline.root": (
        " (the local runner keeps its lock, logs and run summaries there; "
        "a Kubeflow run's artifact root is kubeflow.pipeline_root)"
    ),
}


def check_uri(key: str, value: str) -> str | None:
    """Why `value` cannot work for config key `key` (its scheme is not supported there), or None."""
    found = scheme(value)
    accepted = ACCEPTED.get(key, ("", *OBJECT_STORES))
    if found in accepted:
        return None
    shown = ", ".join(f"{s}://" if s else "a local path" for s in accepted)
    extra = WHY_LOCAL.get(key, "")
    return f"{key}: the scheme {found}:// is not supported here{extra}; use {shown}"


class RemotePath:
    """A location on an object store: `gs://bucket/key/prefix`. Joins with `/` like a `pathlib.Path`."""

    __slots__ = ("uri",)

    def __init__(self, uri: str):
        found = scheme(uri)
        if found not in OBJECT_STORES:
            raise ValueError(f"unsupported URI {uri!r}: tfxgate reads and writes {', '.join(OBJECT_STORES)}:// only")
        head, _, rest = uri.partition("://")
        parts = [p for p in rest.split("/") if p and p != "."]
        if not parts:
            raise ValueError(f"URI {uri!r} names no bucket")
        if ".." in parts:
            raise ValueError(f"URI {uri!r} contains '..'")
        self.uri = f"{found}://{'/'.join(parts)}"

    @property
    def scheme(self) -> str:
        return self.uri.partition("://")[0]

    @property
    def bucket(self) -> str:
        return self.uri.partition("://")[2].split("/", 1)[0]

    @property
    def key(self) -> str:
        """The object key (no leading or trailing slash; "" for the bucket itself)."""
        rest = self.uri.partition("://")[2]
        return rest.split("/", 1)[1] if "/" in rest else ""

    @property
    def name(self) -> str:
        return self.uri.rsplit("/", 1)[-1] if self.key else ""

    @property
    def parent(self) -> RemotePath:
        return RemotePath(self.uri.rsplit("/", 1)[0]) if self.key else self

    def __truediv__(self, other: Union[str, os.PathLike]) -> RemotePath:
        return RemotePath(f"{self.uri}/{other}")

    def is_relative_to(self, other: RemotePath) -> bool:
        return self.uri == other.uri or self.uri.startswith(other.uri + "/")

    def __str__(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"RemotePath({self.uri!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, RemotePath) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)


Location = Union[Path, RemotePath]


def location(path: Union[str, os.PathLike, RemotePath]) -> Location:
    """A `RemotePath` for a `gs://`/`s3://` URI, else a `Path` (an unsupported scheme raises ValueError)."""
    if isinstance(path, RemotePath):
        return path
    return RemotePath(str(path)) if scheme(path) else Path(path)


def same(a, b) -> bool:
    """Whether two locations are the same place (local paths with symlinks resolved)."""
    if is_remote(a) or is_remote(b):
        return str(location(a)) == str(location(b))
    return os.path.realpath(a) == os.path.realpath(b)


# --- object-store clients: one per scheme and process, imported on first use --------------------------


class _Store:
    """The few operations tfxgate needs of an object store, on (bucket, key)."""

    def keys(self, bucket: str, prefix: str) -> list[str]: ...
    def get(self, bucket: str, key: str) -> bytes: ...
    def put(self, bucket: str, key: str, data: bytes) -> None: ...
    def upload(self, bucket: str, key: str, filename: str) -> None: ...
    def copy(self, bucket: str, key: str, target: str) -> None: ...
    def delete(self, bucket: str, keys: list[str]) -> None: ...
    def exists(self, bucket: str, key: str) -> bool: ...
    def stat(self, bucket: str, key: str) -> tuple[int, int]: ...


class _Gcs(_Store):
    def __init__(self):
        from google.cloud import storage  # the client Beam's gcsio uses; honours STORAGE_EMULATOR_HOST

        self.client = storage.Client()

    def keys(self, bucket, prefix):
        return [b.name for b in self.client.list_blobs(bucket, prefix=prefix)]

    def get(self, bucket, key):
        return self.client.bucket(bucket).blob(key).download_as_bytes()

    def put(self, bucket, key, data):
        self.client.bucket(bucket).blob(key).upload_from_string(data)

    def upload(self, bucket, key, filename):
        self.client.bucket(bucket).blob(key).upload_from_filename(filename)

    def copy(self, bucket, key, target):
        found = self.client.bucket(bucket)
        found.copy_blob(found.blob(key), found, target)

    def delete(self, bucket, keys):
        found = self.client.bucket(bucket)
        for key in keys:
            found.blob(key).delete()

    def exists(self, bucket, key):
        return self.client.bucket(bucket).blob(key).exists()

    def stat(self, bucket, key):
        blob = self.client.bucket(bucket).get_blob(key)
        if blob is None:
            raise FileNotFoundError(f"no such object: gs://{bucket}/{key}")
        return blob.size, int(blob.updated.timestamp() * 1e9) if blob.updated else 0


class _S3(_Store):
    def __init__(self):
        import boto3  # honours AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...

        self.client = boto3.client("s3")

    def keys(self, bucket, prefix):
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def get(self, bucket, key):
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def put(self, bucket, key, data):
        self.client.put_object(Bucket=bucket, Key=key, Body=data)

    def upload(self, bucket, key, filename):
        self.client.upload_file(filename, bucket, key)

    def copy(self, bucket, key, target):
        self.client.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key})

    def delete(self, bucket, keys):
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": k} for k in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})

    def exists(self, bucket, key):
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def stat(self, bucket, key):
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            raise FileNotFoundError(f"no such object: s3://{bucket}/{key}") from err
        return head["ContentLength"], int(head["LastModified"].timestamp() * 1e9)


@functools.cache
def _store(name: str) -> _Store:
    return {"gs": _Gcs, "s3": _S3}[name]()


def _prefix(path: RemotePath) -> str:
    return f"{path.key}/" if path.key else ""


# --- operations on any location --------------------------------------------------------------------


def exists(path) -> bool:
    path = location(path)
    if isinstance(path, Path):
        return path.exists()
    return isfile(path) or is_dir(path)


def isfile(path) -> bool:
    path = location(path)
    if isinstance(path, Path):
        return path.is_file()
    return bool(path.key) and _store(path.scheme).exists(path.bucket, path.key)


def is_dir(path) -> bool:
    """A directory, or on an object store a prefix with at least one object under it."""
    path = location(path)
    if isinstance(path, Path):
        return path.is_dir()
    return bool(_store(path.scheme).keys(path.bucket, _prefix(path)))


def listdir(path) -> list[str]:
    """The names directly inside `path` (files and directories), sorted; [] when it does not exist."""
    path = location(path)
    if isinstance(path, Path):
        return sorted(os.listdir(path)) if path.is_dir() else []
    prefix = _prefix(path)
    # Computed from the full listing: some servers put nested keys among the items of a delimited listing.
    return sorted({k[len(prefix) :].split("/", 1)[0] for k in _store(path.scheme).keys(path.bucket, prefix)} - {""})


def files(path) -> list[str]:
    """Every file under `path`, as paths relative to it with `/`, sorted."""
    path = location(path)
    if isinstance(path, Path):
        walked = os.walk(path)
        return sorted(Path(folder, name).relative_to(path).as_posix() for folder, _, names in walked for name in names)
    prefix = _prefix(path)
    return sorted(k[len(prefix) :] for k in _store(path.scheme).keys(path.bucket, prefix) if not k.endswith("/"))


def read_bytes(path) -> bytes:
    """The content of a file. Raises FileNotFoundError when there is none."""
    path = location(path)
    if isinstance(path, Path):
        return path.read_bytes()
    try:
        return _store(path.scheme).get(path.bucket, path.key)
    except Exception as err:  # each client has its own "not found"; say it the one way callers catch
        if _not_found(err):
            raise FileNotFoundError(f"no such object: {path}") from err
        raise


def stat(path) -> tuple[int, int]:
    """(size in bytes, modification time in ns) of a file. Raises FileNotFoundError when there is none."""
    path = location(path)
    if isinstance(path, Path):
        found = path.stat()
        return found.st_size, found.st_mtime_ns
    return _store(path.scheme).stat(path.bucket, path.key)


def read_text(path, *, encoding: str = "utf-8") -> str:
    return read_bytes(path).decode(encoding)


def write_bytes(path, data: bytes) -> Location:
    """Replaces a file with `data`: atomically on a local disk; one PUT (whole object or nothing) on a store."""
    path = location(path)
    if isinstance(path, Path):
        return atomic.write_bytes(path, data)
    _store(path.scheme).put(path.bucket, path.key, data)
    return path


def write_text(path, text: str, *, encoding: str = "utf-8") -> Location:
    return write_bytes(path, text.encode(encoding))


def write_json(path, value, *, indent: int = 2, null_reason: str = "not a number", **dumps) -> Location:
    """Replaces a file with `value` as strict JSON (as `storage.write_json`, on any location)."""
    path = location(path)
    if isinstance(path, Path):
        return atomic.write_json(path, value, indent=indent, null_reason=null_reason, **dumps)
    return write_text(path, strict_json.dumps(value, reason=null_reason, indent=indent, **dumps) + "\n")


def upload_file(source: Union[str, os.PathLike], path) -> Location:
    """Copies a local file to `path` (streamed)."""
    path = location(path)
    if isinstance(path, Path):
        return atomic.copy_file(source, path)
    _store(path.scheme).upload(path.bucket, path.key, os.fspath(source))
    return path


def copy(source, target) -> None:
    """Copies one file between any two locations (server-side within one bucket)."""
    source, target = location(source), location(target)
    if isinstance(source, Path):
        upload_file(source, target)
    elif isinstance(target, RemotePath) and (source.scheme, source.bucket) == (target.scheme, target.bucket):
        copy_object(source, target)
    else:
        write_bytes(target, read_bytes(source))


def download_tree(source, folder: Union[str, os.PathLike]) -> Path:
    """Copies every file under `source` into the local `folder` (created); returns it."""
    folder = Path(folder)
    for relative in files(source):
        write_bytes(folder / relative, read_bytes(location(source) / relative))
    return folder


def copy_object(source: RemotePath, target: RemotePath) -> None:
    """A server-side copy inside one bucket."""
    if source.scheme != target.scheme or source.bucket != target.bucket:
        raise ValueError(f"copy across buckets is not supported: {source} -> {target}")
    _store(source.scheme).copy(source.bucket, source.key, target.key)


def remove_tree(path) -> None:
    """Removes `path` and everything under it (nothing when it does not exist)."""
    path = location(path)
    if isinstance(path, Path):
        shutil.rmtree(path, ignore_errors=True)
        return
    store = _store(path.scheme)
    keys = store.keys(path.bucket, _prefix(path))
    if keys:
        store.delete(path.bucket, keys)


def open_input(path) -> IO[bytes]:
    """A binary file object to read `path` from (what `pyarrow.csv.read_csv` / `pyarrow.parquet` accept)."""
    path = location(path)
    if isinstance(path, Path):
        return open(path, "rb")
    import io

    return io.BytesIO(read_bytes(path))


def glob(pattern: str) -> list[str]:
    """Files matching a `*`/`?` pattern, sorted (local: `glob.glob`; object stores: the keys under the pattern's
    fixed prefix, where `*` and `?` never cross a `/`, as in a local glob)."""
    if not is_remote(pattern):
        import glob as local_glob

        return sorted(local_glob.glob(pattern))
    fixed = re.split(r"[*?]", pattern, maxsplit=1)[0]
    base = RemotePath(fixed.rsplit("/", 1)[0] if "/" in fixed.partition("://")[2] else fixed)
    wanted = re.compile("".join({"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c)) for c in pattern) + r"\Z")
    keys = _store(base.scheme).keys(base.bucket, _prefix(base))
    return sorted(u for u in (f"{base.scheme}://{base.bucket}/{k}" for k in keys) if wanted.match(u))


def _not_found(err: Exception) -> bool:
    code = getattr(err, "code", None)
    if code == 404:
        return True
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")
    return False


def reset_clients() -> None:
    """Forgets the object-store clients, so the next call reads the environment again (endpoints, credentials)."""
    _store.cache_clear()
