"""TFX's `fileio` on object stores TensorFlow cannot reach, through `tfxgate.storage.filesystem`.

Ingest's driver is ExampleGen's: it resolves spans and fingerprints the input
with `tfx.dsl.io.fileio` (glob, stat, exists), and the executor reads the files
the same way. `fileio` goes to `tf.io.gfile`, which has no `s3://` without
`tensorflow-io`, and whose built-in `gs://` talks to Google's fixed endpoints
only. This plugin (registered with TFX's own filesystem registry, ahead of
TensorFlow's) serves:

- `s3://` always (boto3: `AWS_ENDPOINT_URL` and the `AWS_*` variables);
- `gs://` only when `STORAGE_EMULATOR_HOST` points google-cloud-storage at
  another server (an emulator), which TensorFlow's client would not follow; on
  real GCS, TensorFlow keeps `gs://` as before.

That variable is the one switch, also where TensorFlow does reach the
emulator (the tests' TLS proxy, tests/gcs_tls_proxy.py, with a `gs://`
pipeline root): `fileio` then sees exactly what tfxgate's filesystem layer
sees (the same client, the same server), while what TensorFlow writes itself
(the split files, the Arrow copy) lands on that same server through its own
client. Nothing here looks at proxy settings.

Reads, listings and whole-object writes; an object store has no directories,
so `makedirs` does nothing and `rename` is a copy then a delete.
"""

from __future__ import annotations

import io
import os

from tfx.dsl.io import filesystem as tfx_filesystem
from tfx.dsl.io import filesystem_registry

from tfxgate.storage import filesystem

PRIORITY = 5  # TFX: lower is preferred; TensorFlow's plugin is 10, the local one 20


class _Stat:
    def __init__(self, size: int, mtime_ns: int):
        self.length = size
        self.mtime_nsec = mtime_ns
        self.is_directory = False


class _Upload(io.BytesIO):
    """A write handle: the object is written whole when the handle closes."""

    def __init__(self, path: str, text: bool):
        super().__init__()
        self.path, self.text = path, text

    def write(self, data):  # text mode: TFX writes str
        return super().write(data.encode() if isinstance(data, str) else data)

    def close(self):
        if not self.closed:
            filesystem.write_bytes(self.path, self.getvalue())
        super().close()


class ObjectStoreFilesystem(tfx_filesystem.Filesystem):
    """`fileio` for `s3://` (and `gs://` on an emulator) over tfxgate's filesystem layer."""

    SUPPORTED_SCHEMES = ["s3://"]

    @staticmethod
    def open(name, mode="r"):
        name = _text(name)
        if "w" in mode or "a" in mode:
            return _Upload(name, text="b" not in mode)
        try:
            data = filesystem.read_bytes(name)
        except FileNotFoundError as err:
            raise tfx_filesystem.NotFoundError() from err
        return io.BytesIO(data) if "b" in mode else io.StringIO(data.decode("utf-8"))

    @staticmethod
    def copy(src, dst, overwrite=False):
        if not overwrite and filesystem.exists(_text(dst)):
            raise OSError(f"{_text(dst)} exists")
        filesystem.write_bytes(_text(dst), filesystem.read_bytes(_text(src)))

    @staticmethod
    def exists(path):
        return filesystem.exists(_text(path).rstrip("/"))

    @staticmethod
    def glob(pattern):
        return filesystem.glob(_text(pattern))

    @staticmethod
    def isdir(path):
        return filesystem.is_dir(_text(path).rstrip("/"))

    @staticmethod
    def listdir(path):
        return filesystem.listdir(_text(path).rstrip("/"))

    @staticmethod
    def makedirs(path):
        return None

    @staticmethod
    def mkdir(path):
        return None

    @staticmethod
    def remove(path):
        filesystem.remove_tree(_text(path))

    @staticmethod
    def rename(src, dst, overwrite=False):
        ObjectStoreFilesystem.copy(src, dst, overwrite=overwrite)
        filesystem.remove_tree(_text(src))

    @staticmethod
    def rmtree(path):
        filesystem.remove_tree(_text(path))

    @staticmethod
    def stat(path):
        try:
            return _Stat(*filesystem.stat(_text(path)))
        except FileNotFoundError as err:
            raise tfx_filesystem.NotFoundError() from err


class EmulatedGcsFilesystem(ObjectStoreFilesystem):
    SUPPORTED_SCHEMES = ["gs://"]


def _text(path) -> str:
    return os.fsdecode(path)


filesystem_registry.DEFAULT_FILESYSTEM_REGISTRY.register(ObjectStoreFilesystem, priority=PRIORITY)
if os.environ.get("STORAGE_EMULATOR_HOST"):
    filesystem_registry.DEFAULT_FILESYSTEM_REGISTRY.register(EmulatedGcsFilesystem, priority=PRIORITY)
