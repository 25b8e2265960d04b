"""Atomic, versioned publishing of a model directory. Pure: os and `tfxgate.storage`, no TFX import.

    <destination>/
      1/  2/  3/            versions (numeric, as TF Serving expects); never overwritten
      3/tfxgate-push.json   the version's manifest: which model, from which run, on what decision (see below)
      current -> 3          the live version: a symlink, or a one-line file where symlinks are unsupported
      .incoming-4-<pid>/    a push in progress (hidden; removed by the next push if its writer died)
      .push.lock            serialises pushes and pointer switches on this destination (`storage.file_lock`)
      rollout.json          only under `rollout: canary | blue_green`: stable + candidate (governance/rollout_state.py)

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

At a destination under a staged rollout (`rollout_state.RolloutPolicy.staged`)
the new version goes live as the *candidate* beside the stable one: the
pointer switch is replaced by one atomic write of `rollout.json` (then the
serving configs), and `current` keeps naming the stable version. A first push
there has nothing to compare with and becomes stable at once. `switch_current`
(rollback, completing a killed push) keeps `rollout.json` in step: the state is
written first, as the commit point, then `current`.

A push is identified by (model fingerprint, destination), not by the run that
made it: `publish` first looks for a version whose manifest has the same
fingerprint (`find_version`) and returns it (`Published.reused`) instead of
creating a second version of the same model. docs/CONTRACTS.md gives the
manifest's fields. Each durable step has a named failpoint (README "Crash safety").

On an object store (`gs://`, `s3://`: `storage.filesystem`), where nothing
renames a prefix atomically, the same guarantees come from ordering
(README "Publishing on object stores"): every file is uploaded to the hidden
prefix `.incoming-<version>-<pid>/`, copied server-side to `<version>/`
(`saved_model.pb` last, so TF Serving never finds a loadable half version),
then the manifest is written there as the commit marker, then `current` (a
one-line object), then the hidden prefix is deleted. A `<version>/` without
its manifest is no version; the next push removes it when a hidden prefix of
the same number proves it was a push's, and reuses the number.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import errno
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from tfxgate import storage
from tfxgate.governance import rollout_state, serving_configs
from tfxgate.governance.fingerprint import model_fingerprint
from tfxgate.governance.rollout_state import Change, RolloutPolicy
from tfxgate.storage import failpoints, filesystem
from tfxgate.storage.filesystem import Location, RemotePath

CURRENT = "current"
TEMP_PREFIX = ".incoming-"
MANIFEST = "tfxgate-push.json"  # also in fingerprint.NOT_MODEL: not part of the model

AFTER_COPY = failpoints.named("publish.after_copy")
AFTER_FSYNC = failpoints.named("publish.after_fsync")
AFTER_MANIFEST = failpoints.named("publish.after_manifest")
AFTER_RENAME = failpoints.named("publish.after_rename")
AFTER_CURRENT = failpoints.named("publish.after_current")
AFTER_ROLLOUT_STATE = failpoints.named("publish.after_rollout_state")
MID_UPLOAD = failpoints.named("publish.mid_upload")
AFTER_VERSION_COPY = failpoints.named("publish.after_version_copy")


LOCK_FILE = ".push.lock"
_NO_SYMLINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}


class PublishError(Exception):
    """A push that cannot be done; nothing was published."""


@dataclass(frozen=True)
class Published:
    destination: Location
    version: str
    path: Location
    previous: Optional[str]  # the version `current` pointed at before, if any
    reused: bool = False  # the model was already published here as `version`: nothing was copied, `current` untouched


def serving_dir(model_uri: str | Path) -> Location:
    """The SavedModel inside a TFX Model artifact (`Format-Serving/`, or the URI itself for old layouts);
    a `RemotePath` when the pipeline root is on an object store."""
    base = filesystem.location(model_uri)
    inner = base / "Format-Serving"
    return inner if filesystem.is_dir(inner) else base


def versions(destination: Location) -> list[str]:
    """The published versions (numbered directories holding a manifest), oldest first."""
    destination = filesystem.location(destination)
    return [v for v in _numbered(destination) if filesystem.isfile(destination / v / MANIFEST)]


def _numbered(destination: Location) -> list[str]:
    """Every numbered directory, manifest or not: a new version never takes one of these numbers."""
    destination = filesystem.location(destination)
    if isinstance(destination, RemotePath):
        return sorted((n for n in filesystem.listdir(destination) if n.isdigit()), key=int)
    if not destination.is_dir():
        return []
    found = [p.name for p in destination.iterdir() if p.name.isdigit() and p.is_dir()]
    return sorted(found, key=int)


def read_manifest(version_dir: Location) -> Optional[dict]:
    """A version's manifest, or None when it has none (or an unreadable one: then it is no version)."""
    try:
        found = json.loads(filesystem.read_text(filesystem.location(version_dir) / MANIFEST))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def find_version(destination: Location, fingerprint: str) -> Optional[str]:
    """The version of `destination` that holds the model with this fingerprint, or None (oldest if several)."""
    destination = filesystem.location(destination)
    for version in versions(destination):
        manifest = read_manifest(destination / version)
        if manifest is not None and manifest.get("fingerprint") == fingerprint:
            return version
    return None


def current_version(destination: Location) -> Optional[str]:
    """The version `current` points at (symlink or pointer file), or None before the first push."""
    destination = filesystem.location(destination)
    if isinstance(destination, RemotePath):
        try:
            return filesystem.read_text(destination / CURRENT).strip() or None
        except FileNotFoundError:
            return None
    pointer = destination / CURRENT
    if pointer.is_symlink():
        return os.path.basename(os.readlink(pointer))
    if pointer.is_file():
        return pointer.read_text().strip() or None
    return None


def check_inside(root: Location, destination: Location) -> None:
    """Raises PublishError when `destination` (symlinks followed) is not inside `root`."""
    if filesystem.is_remote(root) or filesystem.is_remote(destination):
        root, destination = filesystem.location(root), filesystem.location(destination)
        if not (isinstance(destination, RemotePath) and isinstance(root, RemotePath)) or not (
            destination.is_relative_to(root)
        ):
            raise PublishError(f"destination {destination} is outside the push root {root}")
        return
    real_root, real = os.path.realpath(root), os.path.realpath(destination)
    if not Path(real).is_relative_to(real_root):
        raise PublishError(f"destination {destination} resolves to {real}, outside the push root {real_root}")


_HELD: set[str] = set()  # destinations this process holds the lock of: `locked` is re-entrant


@contextlib.contextmanager
def locked(destination: Location) -> Iterator[None]:
    """Holds the destination's lock (dies with the process, so a killed push never blocks the next).

    Re-entrant within a process (an `flock` on a second descriptor would wait
    for itself): recovery holds it while it completes a push with `switch_current`.
    An object store has no lock that dies with its holder: a remote destination's
    lock is a local file named after its URI, so pushes from one machine are
    serialised; across machines, the pipeline's run and governance locks are
    what serialises them (README "Publishing on object stores").
    """
    destination = filesystem.location(destination)
    remote = isinstance(destination, RemotePath)
    key = str(destination) if remote else os.path.realpath(destination)
    if key in _HELD:
        yield
        return
    lock_file = _remote_lock_file(destination) if remote else destination / LOCK_FILE
    with storage.file_lock(lock_file):
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
    rollout: Optional[RolloutPolicy] = None,
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
      rollout: the destination's rollout policy; a staged one (canary, blue-green) makes the new version the
        candidate beside the stable one instead of `current` (module docstring). Recorded in the manifest.

    Raises:
      PublishError: nothing was published (the message says why).
    """
    source, destination = filesystem.location(source), filesystem.location(destination)
    if root is not None:
        check_inside(root, destination)
    if not filesystem.is_dir(source):
        raise PublishError(f"model directory not found: {source}")
    fingerprint = fingerprint or model_fingerprint(source)
    if isinstance(source, RemotePath) and isinstance(destination, Path):  # a remote model to a local root
        with tempfile.TemporaryDirectory(prefix="tfxgate-model-") as local:
            return publish(
                filesystem.download_tree(source, local),
                destination,
                fingerprint=fingerprint,
                manifest=manifest,
                before_rename=before_rename,
                on_file=on_file,
                rollout=rollout,
            )
    remote = isinstance(destination, RemotePath)
    with locked(destination):
        if remote:
            _remove_abandoned_remote(destination)
        else:
            _remove_abandoned(destination)
        previous = current_version(destination)
        found = find_version(destination, fingerprint)
        if found is not None:
            return Published(destination, found, destination / found, previous, reused=True)
        existing = _numbered(destination)
        version = str(int(existing[-1]) + 1 if existing else 1)
        written = {"destination": destination.name, **(manifest or {}), "fingerprint": fingerprint}
        written = {**written, "version": version, "at": written.get("at") or _now()}
        if rollout is not None and rollout.staged:
            written["rollout"] = dataclasses.asdict(rollout)  # what completes this push if it is killed
        write = _write_remote if remote else _write_local
        final = write(source, destination, version, manifest=written, before_rename=before_rename, on_file=on_file)
        _go_live(destination, version, policy=rollout, manifest=written)
        failpoints.hit(AFTER_CURRENT)
        if remote:
            filesystem.remove_tree(_hidden(destination, version))
        return Published(destination, version, final, previous)


def _hidden(destination: Location, version: str) -> Location:
    """Where a push writes version `version` before it is one (the next push removes it if its writer died)."""
    return destination / f"{TEMP_PREFIX}{version}-{os.getpid()}"


def _write_local(source: Path, destination: Path, version: str, *, manifest: dict, before_rename, on_file) -> Path:
    """Version `version` complete in a hidden directory, then renamed into place (one atomic step)."""
    temp = _hidden(destination, version)
    try:
        _copy_tree(source, temp, on_file=on_file)
        failpoints.hit(AFTER_COPY)
        if before_rename is not None:
            before_rename(temp, version)
        _fsync_dirs(temp)
        failpoints.hit(AFTER_FSYNC)
        storage.write_json(temp / MANIFEST, manifest)
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
    return final


def switch_current(
    destination: Location, version: str, *, root: Optional[Location] = None, change: Optional[Change] = None
) -> Optional[str]:
    """Points `current` at an existing `version` atomically; returns the version it pointed at before.

    Under a rollout, `rollout.json` is first rewritten with `version` as stable (`change` says why: rollback,
    promote), then `current`, then the serving configs.

    Raises:
      PublishError: no such version at this destination.
    """
    destination = filesystem.location(destination)
    if root is not None:
        check_inside(root, destination)
    with locked(destination):
        if version not in versions(destination):
            known = ", ".join(versions(destination)) or "none"
            raise PublishError(f"no version {version} at {destination} (versions: {known})")
        previous = current_version(destination)
        state = rollout_state.read(destination)
        if state is not None:
            change = change or Change("rollback", version, previous=previous or "", at=_now())
            state = rollout_state.stable(state, version=version, change=change)
            rollout_state.write(destination, state)
        _point(destination, version)
        if state is not None:
            serving_configs.write(destination, state)
        return previous


def point_current(destination: Location, version: str) -> None:
    """Points `current` at `version` and nothing else: for the rollout, which wrote `rollout.json` first."""
    with locked(destination):
        _point(filesystem.location(destination), version)


def finish_push(destination: Location, version: str) -> Optional[str]:
    """Completes a push killed between its version and going live: `current`, or the candidate under a rollout.

    Callers (`push_records.record_push`, a retried approve) call it for the
    newest version when `current` does not name it. Under a rollout that is
    the normal state of a candidate, so nothing is done for the stable version,
    the candidate, or a dropped one (aborted or replaced). Returns the version
    `current` named before.
    """
    destination = filesystem.location(destination)
    with locked(destination):
        previous = current_version(destination)
        state = rollout_state.read(destination)
        if state is not None and (version in (state.stable, state.candidate) or version in state.dropped):
            return previous
        if version not in versions(destination):
            raise PublishError(f"no version {version} at {destination} (versions: {', '.join(versions(destination))})")
        manifest = read_manifest(destination / version) or {}
        known = manifest.get("rollout")
        policy = RolloutPolicy(**known) if isinstance(known, dict) else None
        _go_live(destination, version, policy=policy, manifest=manifest)
        return previous


def _go_live(destination: Location, version: str, *, policy: Optional[RolloutPolicy], manifest: dict) -> None:
    """A new version's last step: `current` (direct), or one write of `rollout.json` first (module docstring)."""
    state = rollout_state.read(destination)
    if state is None and (policy is None or not policy.staged):
        _point(destination, version)  # a direct destination: as always
        return
    stable = current_version(destination)
    change = Change(
        "push",
        version,
        previous=stable or "",
        by=str(manifest.get("by") or ""),
        reason=str(manifest.get("reason") or ""),
        at=str(manifest.get("at") or _now()),
    )
    policy = policy or RolloutPolicy()  # a push without a staged policy to a rolled-out destination: direct now
    if policy.staged and stable is not None:
        base = state or rollout_state.RolloutState(kind=policy.kind, stable=stable)
        new = rollout_state.staged(base, candidate=version, policy=policy, change=change)
    elif state is not None:
        dropped = state.dropped + ((state.candidate,) if state.candidate else ())
        new = rollout_state.stable(state.with_policy(policy), version=version, change=change)
        new = rollout_state.with_change(new, candidate=None, dropped=dropped)
    else:
        new = rollout_state.first(policy, version=version, change=change)
    rollout_state.write(destination, new)
    failpoints.hit(AFTER_ROLLOUT_STATE)
    if new.stable == version:
        _point(destination, version)
    serving_configs.write(destination, new)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _point(destination: Location, version: str) -> None:
    """Replaces `current` atomically: a relative symlink, or a pointer file if symlinks fail (one PUT remotely)."""
    if isinstance(destination, RemotePath):
        filesystem.write_text(destination / CURRENT, f"{version}\n")
        return
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
    for path in storage.abandoned_temporaries(destination / rollout_state.STATE):
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


# --- object stores: no atomic rename, so order is the protocol (module docstring) ---------------------------


def _remote_lock_file(destination: RemotePath) -> Path:
    digest = hashlib.sha256(str(destination).encode()).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / "tfxgate-locks" / f"{digest}.lock"


def _write_remote(
    source: Location, destination: RemotePath, version: str, *, manifest: dict, before_rename, on_file
) -> RemotePath:
    """Upload to the hidden prefix, copy to `<version>/` (saved_model.pb last), then the manifest: the commit."""
    hidden, final = _hidden(destination, version), destination / version
    with tempfile.TemporaryDirectory(prefix="tfxgate-card-") as extra:
        if before_rename is not None:  # the model card: written locally, uploaded with the model
            before_rename(Path(extra), version)
        uploads = _upload_order([(source, f) for f in filesystem.files(source)] + _extra_files(Path(extra)))
        for count, (folder, relative) in enumerate(uploads, start=1):
            filesystem.copy(folder / relative, hidden / relative)
            if on_file is not None:
                on_file(count, Path(relative))
            if count == (len(uploads) + 1) // 2:
                failpoints.hit(MID_UPLOAD)
    failpoints.hit(AFTER_COPY)
    for _, relative in uploads:
        filesystem.copy_object(hidden / relative, final / relative)
    failpoints.hit(AFTER_VERSION_COPY)
    filesystem.write_json(final / MANIFEST, manifest)  # the commit marker: from here on it is a version
    failpoints.hit(AFTER_RENAME)
    return final


def _extra_files(folder: Path) -> list[tuple[Location, str]]:
    return [(folder, f) for f in filesystem.files(folder) if f != MANIFEST]


def _upload_order(found: list[tuple[Location, str]]) -> list[tuple[Location, str]]:
    """Every file, `saved_model.pb` last: TF Serving loads a version once that file is there."""
    return sorted(found, key=lambda item: (item[1].endswith("saved_model.pb"), item[1]))


def _remove_abandoned_remote(destination: RemotePath) -> None:
    """Hidden prefixes of pushes that died, and the `<version>/` each was copying (it has no manifest).

    A numbered prefix without a manifest and without a hidden prefix of its
    number was not made by a push: it is left alone (and its number never reused).
    """
    for name in filesystem.listdir(destination):
        if not name.startswith(TEMP_PREFIX):
            continue
        number = name[len(TEMP_PREFIX) :].split("-", 1)[0]
        if number.isdigit() and not filesystem.isfile(destination / number / MANIFEST):
            filesystem.remove_tree(destination / number)
        filesystem.remove_tree(destination / name)
