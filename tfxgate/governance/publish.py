"""Atomic, versioned publishing of a model directory. Pure: os and `tfxgate.storage`, no TFX import.

    <destination>/
      1/  2/  3/            versions (numeric, as TF Serving expects); never overwritten
      3/tfxgate-push.json   the version's manifest: which model, from which run, on what decision (see below)
      current -> 3          the live version: a symlink, or a one-line file where symlinks are unsupported
      .incoming-4-<pid>/    a push in progress (hidden; removed by the next push if its writer died)
      .push.lock            serialises pushes and pointer switches on this destination (`storage.file_lock`)

A version is written completely into a hidden temporary directory *inside the
destination* (same filesystem, so the final `rename` is atomic), every file and
directory is fsynced, the model card hook runs there, and only then is it
renamed to `<version>/`. The manifest is written last inside the temporary
directory, so a version directory without one is not a version: readers
(`versions`, `history`, `rollback`) ignore it. `current` is switched by renaming a new symlink (or a
new pointer file) over the old one (`storage.replace_symlink`,
`storage.write_text`), so a reader sees the old version or the new one, never
a mix. A process killed at any point leaves at most a hidden
temporary directory; the next push removes it and succeeds.

A push is identified by (model fingerprint, destination), not by the run that
made it: `publish` first looks for a version whose manifest has the same
fingerprint (`find_version`) and returns it (`Published.reused`) instead of
creating a second version of the same model. docs/CONTRACTS.md gives the
manifest's fields. Each durable step has a named failpoint (README "Crash safety").
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from tfxgate import storage
from tfxgate.governance.fingerprint import model_fingerprint
from tfxgate.storage import failpoints

CURRENT = "current"
TEMP_PREFIX = ".incoming-"
MANIFEST = "tfxgate-push.json"  # also in fingerprint.NOT_MODEL: not part of the model

AFTER_COPY = failpoints.named("publish.after_copy")
AFTER_FSYNC = failpoints.named("publish.after_fsync")
AFTER_MANIFEST = failpoints.named("publish.after_manifest")
AFTER_RENAME = failpoints.named("publish.after_rename")
AFTER_CURRENT = failpoints.named("publish.after_current")


LOCK_FILE = ".push.lock"
_NO_SYMLINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}


class PublishError(Exception):
    """A push that cannot be done; nothing was published."""


@dataclass(frozen=True)
class Published:
    destination: Path
    version: str
    path: Path
    previous: Optional[str]  # the version `current` pointed at before, if any
    reused: bool = False  # the model was already published here as `version`: nothing was copied, `current` untouched


def serving_dir(model_uri: str | Path) -> Path:
    """The SavedModel inside a TFX Model artifact (`Format-Serving/`, or the URI itself for old layouts)."""
    inner = Path(model_uri) / "Format-Serving"
    return inner if inner.is_dir() else Path(model_uri)


def versions(destination: Path) -> list[str]:
    """The published versions (numbered directories holding a manifest), oldest first."""
    return [v for v in _numbered(destination) if (Path(destination) / v / MANIFEST).is_file()]


def _numbered(destination: Path) -> list[str]:
    """Every numbered directory, manifest or not: a new version never takes one of these numbers."""
    if not Path(destination).is_dir():
        return []
    found = [p.name for p in Path(destination).iterdir() if p.name.isdigit() and p.is_dir()]
    return sorted(found, key=int)


def read_manifest(version_dir: Path) -> Optional[dict]:
    """A version's manifest, or None when it has none (or an unreadable one: then it is no version)."""
    try:
        found = json.loads((Path(version_dir) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def find_version(destination: Path, fingerprint: str) -> Optional[str]:
    """The version of `destination` that holds the model with this fingerprint, or None (oldest if several)."""
    for version in versions(destination):
        manifest = read_manifest(Path(destination) / version)
        if manifest is not None and manifest.get("fingerprint") == fingerprint:
            return version
    return None


def current_version(destination: Path) -> Optional[str]:
    """The version `current` points at (symlink or pointer file), or None before the first push."""
    pointer = Path(destination) / CURRENT
    if pointer.is_symlink():
        return os.path.basename(os.readlink(pointer))
    if pointer.is_file():
        return pointer.read_text().strip() or None
    return None


def check_inside(root: Path, destination: Path) -> None:
    """Raises PublishError when `destination` (symlinks followed) is not inside `root`."""
    real_root, real = os.path.realpath(root), os.path.realpath(destination)
    if not Path(real).is_relative_to(real_root):
        raise PublishError(f"destination {destination} resolves to {real}, outside the push root {real_root}")


_HELD: set[str] = set()  # destinations this process holds the lock of: `locked` is re-entrant


@contextlib.contextmanager
def locked(destination: Path) -> Iterator[None]:
    """Holds the destination's lock (dies with the process, so a killed push never blocks the next).

    Re-entrant within a process (an `flock` on a second descriptor would wait
    for itself): recovery holds it while it completes a push with `switch_current`.
    """
    key = os.path.realpath(destination)
    if key in _HELD:
        yield
        return
    with storage.file_lock(Path(destination) / LOCK_FILE):
        _HELD.add(key)
        try:
            yield
        finally:
            _HELD.discard(key)


def publish(
    source: Path,
    destination: Path,
    *,
    root: Optional[Path] = None,
    fingerprint: Optional[str] = None,
    manifest: Optional[dict] = None,
    before_rename: Optional[Callable[[Path, str], None]] = None,
    on_file: Optional[Callable[[int, Path], None]] = None,
) -> Published:
    """Copies `source` to the next version of `destination` atomically and makes it `current`.

    When the model (by fingerprint) is already a version of `destination`, that
    version is returned with `reused=True`: nothing is copied and `current` is
    left alone (the caller completes an interrupted push, see `switch_current`).

    Args:
      source: the model directory (e.g. `serving_dir(model.uri)`).
      destination: the destination directory (created if missing).
      root: the push root; when given, `destination` must resolve inside it.
      fingerprint: the model's `fingerprint.model_fingerprint` (computed from `source` when omitted).
      manifest: what the manifest records beside the fingerprint, destination, version and time (model
        artifact id, pipeline, run id, gates, decision, by, reason: docs/CONTRACTS.md).
      before_rename: called with the complete temporary version directory and the version it becomes, just
        before it is renamed into place (the model card is written here).
      on_file: called after each file is copied, with the count and the relative path.

    Raises:
      PublishError: nothing was published (the message says why).
    """
    source, destination = Path(source), Path(destination)
    if root is not None:
        check_inside(root, destination)
    if not source.is_dir():
        raise PublishError(f"model directory not found: {source}")
    fingerprint = fingerprint or model_fingerprint(source)
    with locked(destination):
        _remove_abandoned(destination)
        previous = current_version(destination)
        found = find_version(destination, fingerprint)
        if found is not None:
            return Published(destination, found, destination / found, previous, reused=True)
        existing = _numbered(destination)
        version = str(int(existing[-1]) + 1 if existing else 1)
        temp = destination / f"{TEMP_PREFIX}{version}-{os.getpid()}"
        try:
            _copy_tree(source, temp, on_file=on_file)
            failpoints.hit(AFTER_COPY)
            if before_rename is not None:
                before_rename(temp, version)
            _fsync_dirs(temp)
            failpoints.hit(AFTER_FSYNC)
            written = {"destination": destination.name, **(manifest or {}), "fingerprint": fingerprint}
            storage.write_json(temp / MANIFEST, {**written, "version": version, "at": written.get("at") or _now()})
            failpoints.hit(AFTER_MANIFEST)
            final = destination / version
            if os.path.lexists(final):  # never overwrite a version, even one made by hand meanwhile
                raise PublishError(f"version {version} already exists at {destination}")
            os.rename(temp, final)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        storage.fsync_dir(destination)
        failpoints.hit(AFTER_RENAME)
        _point(destination, version)
        failpoints.hit(AFTER_CURRENT)
        return Published(destination, version, final, previous)


def switch_current(destination: Path, version: str, *, root: Optional[Path] = None) -> Optional[str]:
    """Points `current` at an existing `version` atomically; returns the version it pointed at before.

    Raises:
      PublishError: no such version at this destination.
    """
    destination = Path(destination)
    if root is not None:
        check_inside(root, destination)
    with locked(destination):
        if version not in versions(destination):
            known = ", ".join(versions(destination)) or "none"
            raise PublishError(f"no version {version} at {destination} (versions: {known})")
        previous = current_version(destination)
        _point(destination, version)
        return previous


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _point(destination: Path, version: str) -> None:
    """Replaces `current` atomically: a relative symlink, or a pointer file if symlinks fail."""
    try:
        storage.replace_symlink(destination / CURRENT, version)
    except OSError as err:
        if err.errno not in _NO_SYMLINKS:
            raise
        storage.write_text(destination / CURRENT, f"{version}\n")


def _remove_abandoned(destination: Path) -> None:
    """Temporary versions and pointers of pushes that died (we hold the lock: nobody else is writing)."""
    for path in destination.iterdir():
        if path.name.startswith(TEMP_PREFIX):
            shutil.rmtree(path, ignore_errors=True)
    for path in storage.abandoned_temporaries(destination / CURRENT):
        path.unlink(missing_ok=True)


def _copy_tree(source: Path, target: Path, *, on_file: Optional[Callable[[int, Path], None]]) -> None:
    count = 0
    target.mkdir()
    for folder, dirs, files in os.walk(source):
        relative = Path(folder).relative_to(source)
        for name in sorted(dirs):
            (target / relative / name).mkdir()
        for name in sorted(files):
            with open(Path(folder) / name, "rb") as src, open(target / relative / name, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
            count += 1
            if on_file is not None:
                on_file(count, relative / name)


def _fsync_dirs(top: Path) -> None:
    for folder, _, _ in os.walk(top, topdown=False):
        storage.fsync_dir(folder)
