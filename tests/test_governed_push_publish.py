"""tfxgate/governance/publish.py on a real filesystem: versions, `current`, atomicity, a SIGKILL mid-copy."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tfxgate.governance import publish as pub
from tfxgate.governance.fingerprint import model_fingerprint
from tfxgate.governance.publish import PublishError


def make_model(path: Path, *, files: int = 3, tag: str = "a") -> Path:
    (path / "variables").mkdir(parents=True)
    (path / "saved_model.pb").write_text(f"graph {tag}")
    for i in range(files):
        (path / "variables" / f"part-{i}").write_bytes(f"{tag}{i}".encode() * 1000)
    return path


def tree(path: Path) -> dict[str, bytes]:
    """The model files under `path` (a version's manifest is not part of the model)."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name != pub.MANIFEST)
    return {str(p.relative_to(path)): p.read_bytes() for p in files}


def visible(destination: Path) -> list[str]:
    return sorted(p.name for p in destination.iterdir() if not p.name.startswith("."))


def test_versions_count_up_and_current_follows(tmp_path):
    a, b = make_model(tmp_path / "a"), make_model(tmp_path / "b", tag="b")
    dest = tmp_path / "push" / "staging"
    first = pub.publish(a, dest)
    second = pub.publish(b, dest)
    assert (first.version, first.previous, second.version, second.previous) == ("1", None, "2", "1")
    assert pub.versions(dest) == ["1", "2"] and visible(dest) == ["1", "2", "current"]
    assert os.readlink(dest / "current") == "2" and pub.current_version(dest) == "2"
    assert tree(dest / "1") == tree(a) and tree(dest / "2") == tree(b)


def test_model_card_hook_runs_inside_the_hidden_temporary_version(tmp_path):
    seen = []

    def card(version_dir: Path, version: str) -> None:
        seen.append((version_dir, version))
        assert version_dir.name.startswith(pub.TEMP_PREFIX) and version_dir.parent == tmp_path / "dest"
        (version_dir / "model_card.md").write_text("# card")

    done = pub.publish(make_model(tmp_path / "m"), tmp_path / "dest", before_rename=card)
    assert [v for _, v in seen] == [done.version] and (done.path / "model_card.md").read_text() == "# card"


def test_a_failing_hook_publishes_nothing(tmp_path):
    def broken(version_dir: Path, version: str) -> None:
        raise RuntimeError("card failed")

    with pytest.raises(RuntimeError, match="card failed"):
        pub.publish(make_model(tmp_path / "m"), tmp_path / "dest", before_rename=broken)
    assert list((tmp_path / "dest").iterdir()) == [tmp_path / "dest" / pub.LOCK_FILE]


def test_an_existing_version_is_never_overwritten(tmp_path):
    dest = tmp_path / "dest"
    pub.publish(make_model(tmp_path / "a"), dest)

    def someone_else_made_2(version_dir: Path, version: str) -> None:
        (dest / "2").mkdir()
        (dest / "2" / "theirs").write_text("keep me")

    with pytest.raises(PublishError, match=f"version 2 already exists at {dest}"):
        pub.publish(make_model(tmp_path / "b", tag="b"), dest, before_rename=someone_else_made_2)
    assert (dest / "2" / "theirs").read_text() == "keep me" and pub.current_version(dest) == "1"


def test_missing_source_is_refused(tmp_path):
    with pytest.raises(PublishError, match=f"model directory not found: {tmp_path / 'nope'}"):
        pub.publish(tmp_path / "nope", tmp_path / "dest")


def test_destination_symlinked_out_of_the_root_is_refused(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root" / "prod").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(PublishError, match="outside the push root"):
        pub.publish(make_model(tmp_path / "m"), tmp_path / "root" / "prod", root=tmp_path / "root")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_switch_current_rolls_back_and_refuses_unknown_versions(tmp_path):
    dest = tmp_path / "dest"
    pub.publish(make_model(tmp_path / "a"), dest)
    pub.publish(make_model(tmp_path / "b", tag="b"), dest)
    assert pub.switch_current(dest, "1") == "2" and pub.current_version(dest) == "1"
    with pytest.raises(PublishError, match=r"no version 7 at .* \(versions: 1, 2\)"):
        pub.switch_current(dest, "7")
    assert pub.current_version(dest) == "1"


def test_pointer_file_where_symlinks_are_unsupported(tmp_path, monkeypatch):
    def no_symlinks(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(pub.os, "symlink", no_symlinks)
    dest = tmp_path / "dest"
    pub.publish(make_model(tmp_path / "a"), dest)
    pub.publish(make_model(tmp_path / "b", tag="b"), dest)
    assert not (dest / "current").is_symlink() and (dest / "current").read_text() == "2\n"
    pub.switch_current(dest, "1")
    assert pub.current_version(dest) == "1" and visible(dest) == ["1", "2", "current"]


KILLED_PUSH = """
import sys, time
from pathlib import Path
from tfxgate.governance.publish import publish

source, destination, marker = map(Path, sys.argv[1:4])

def pause_after_five(count, relative):
    if count == 5:
        marker.write_text(str(relative))
        time.sleep(120)

publish(source, destination, on_file=pause_after_five)
"""


def test_sigkill_mid_copy_leaves_no_partial_version_and_a_retry_succeeds(tmp_path):
    dest = tmp_path / "dest"
    pub.publish(make_model(tmp_path / "v1"), dest)
    big = make_model(tmp_path / "v2", files=40, tag="new")
    marker = tmp_path / "paused"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_PUSH, str(big), str(dest), str(marker)])
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the push process ended before reaching the pause"
            assert time.monotonic() < deadline, "the push never reached its fifth file"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # Half a copy exists, hidden; no version 2, and `current` still serves 1.
    [partial] = [p for p in dest.iterdir() if p.name.startswith(pub.TEMP_PREFIX)]
    assert 0 < len(tree(partial)) < len(tree(big))
    assert visible(dest) == ["1", "current"] and pub.versions(dest) == ["1"]
    assert pub.current_version(dest) == "1"

    retry = pub.publish(big, dest)
    assert retry.version == "2" and tree(dest / "2") == tree(big)
    assert pub.current_version(dest) == "2"
    assert not [p for p in dest.iterdir() if p.name.startswith(pub.TEMP_PREFIX)], "the abandoned copy was removed"


def test_the_same_model_is_never_a_second_version(tmp_path):
    dest = tmp_path / "dest"
    model = make_model(tmp_path / "a")
    first = pub.publish(model, dest, manifest={"model_id": 7, "run_id": "r1"})
    pub.publish(make_model(tmp_path / "b", tag="b"), dest)
    again = pub.publish(model, dest, manifest={"model_id": 9, "run_id": "r2"})
    assert (again.version, again.reused, again.path) == ("1", True, dest / "1")
    assert pub.versions(dest) == ["1", "2"] and pub.current_version(dest) == "2", "a reuse leaves `current` alone"
    manifest = pub.read_manifest(dest / "1")
    assert manifest["run_id"] == "r1" and manifest["version"] == "1" and manifest["destination"] == "dest"
    assert manifest["fingerprint"] == model_fingerprint(model) and not first.reused
    assert pub.find_version(dest, model_fingerprint(model)) == "1" and pub.find_version(dest, "sha256:0") is None


def test_a_version_directory_without_its_manifest_is_no_version(tmp_path):
    dest = tmp_path / "dest"
    pub.publish(make_model(tmp_path / "a"), dest)
    (dest / "2").mkdir()
    (dest / "2" / "saved_model.pb").write_text("made by hand")
    assert pub.versions(dest) == ["1"]
    with pytest.raises(PublishError, match=r"no version 2 at .* \(versions: 1\)"):
        pub.switch_current(dest, "2")
    # Its number is not reused either: the next version is 3.
    assert pub.publish(make_model(tmp_path / "c", tag="c"), dest).version == "3"
