"""One atomic file write: a temporary file in the same directory, fsync, `os.replace`, fsync the directory.

A reader sees the old file or the new one, never half of one; a process killed
at any point leaves the old content in place (and at most a hidden
`.<name>.<random>.tmp` beside it, which `abandoned_temporaries` finds). The
temporary file is in the target's own directory because `os.replace` is atomic
only within one filesystem.

    write_text(root / "summaries" / "run.json", summary.to_json())
    write_json(root / "last_success.json", {"run_id": run_id})
    with atomic_file(path) as handle:      # stream into it
        shutil.copyfileobj(source, handle)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Union

from tfxgate.storage import strict_json

PathLike = Union[str, os.PathLike]
TEMP_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_file(path: PathLike) -> Iterator[BinaryIO]:
    """A binary handle whose content replaces `path` when the block ends without error.

    The directory is created if missing. On an exception the temporary file is
    removed and `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_bytes(path: PathLike, data: bytes) -> Path:
    """Replaces `path` with `data` atomically; returns the path."""
    with atomic_file(path) as handle:
        handle.write(data)
    return Path(path)


def write_text(path: PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Replaces `path` with `text` atomically; returns the path."""
    return write_bytes(path, text.encode(encoding))


def write_json(path: PathLike, value: Any, *, indent: int = 2, null_reason: str = "not a number", **dumps: Any) -> Path:
    """Replaces `path` with `value` as strict JSON (a trailing newline) atomically; returns the path.

    A NaN/Infinity is written as null, and `null_reason` says why under the object's
    `"nulls"` key (`strict_json`). Extra keyword arguments go to `json.dumps`
    (e.g. `default=float`, `sort_keys=True`).
    """
    return write_text(path, strict_json.dumps(value, reason=null_reason, indent=indent, **dumps) + "\n")


def copy_file(source: PathLike, path: PathLike) -> Path:
    """Replaces `path` with a copy of `source` atomically (streamed); returns the path."""
    with atomic_file(path) as handle, open(source, "rb") as src:
        shutil.copyfileobj(src, handle, 1 << 20)
    return Path(path)


def replace_symlink(path: PathLike, target: str) -> Path:
    """Points the symlink `path` at `target` atomically (a new link renamed over the old entry).

    Raises:
      OSError: the filesystem refuses symlinks (EPERM, ENOTSUP, ...); `path` is unchanged.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-link{TEMP_SUFFIX}")
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def abandoned_temporaries(path: PathLike) -> list[Path]:
    """Temporary files a killed writer of `path` left beside it (remove them only under a lock)."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    prefix = f".{path.name}."
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(TEMP_SUFFIX))


def fsync_dir(directory: PathLike) -> None:
    """Makes a rename or a new entry in `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
