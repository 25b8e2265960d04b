"""The one file lock and the one atomic write (tfxgate/storage), across real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tfxgate import storage

HOLD = """
import sys, time
from pathlib import Path
from tfxgate.storage import file_lock

with file_lock(Path(sys.argv[1])):
    Path(sys.argv[2]).write_text("held")
    time.sleep(float(sys.argv[3]))
"""


def hold_lock(path: Path, tmp_path: Path, *, seconds: float) -> subprocess.Popen:
    """Starts a process that takes the lock and holds it for `seconds`; returns once it holds it."""
    marker = tmp_path / "holding"
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(marker), str(seconds)])
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None and time.monotonic() < deadline, "the child never took the lock"
        time.sleep(0.05)
    return child


def test_a_second_process_is_refused_with_the_holder_named(tmp_path):
    path = tmp_path / "a.lock"
    child = hold_lock(path, tmp_path, seconds=60)
    told = []
    try:
        with pytest.raises(storage.LockHeld) as refused:
            with storage.file_lock(path, wait=False, on_held=told.append):
                pytest.fail("took a lock another process holds")
    finally:
        child.kill()
        child.wait()
    assert refused.value.holder.startswith(f"pid {child.pid} since ")
    assert told == [refused.value.holder]


def test_a_killed_holder_frees_the_lock(tmp_path):
    path = tmp_path / "a.lock"
    child = hold_lock(path, tmp_path, seconds=60)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with storage.file_lock(path, wait=False) as held:
        assert held.waited is False
        assert path.read_text().startswith(f"pid {os.getpid()} since ")
    assert path.read_text() == ""


def test_a_waiting_process_gets_the_lock_when_the_holder_lets_go(tmp_path):
    path = tmp_path / "a.lock"
    child = hold_lock(path, tmp_path, seconds=1)
    since = time.monotonic()
    told = []
    with storage.file_lock(path, on_held=told.append) as held:
        assert held.waited is True and time.monotonic() - since > 0.5, "took the lock while the child held it"
    assert child.wait(timeout=60) == 0
    assert len(told) == 1 and told[0].startswith(f"pid {child.pid} ")


KILLED_WRITE = """
import os, signal, sys
from pathlib import Path
from tfxgate.storage import atomic_file

with atomic_file(Path(sys.argv[1])) as handle:
    handle.write(b"new content")
    handle.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_writer_killed_before_the_replace_leaves_the_old_content(tmp_path):
    path = tmp_path / "summary.json"
    storage.write_text(path, "old content")
    child = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(path)])
    assert child.returncode == -signal.SIGKILL
    assert path.read_text() == "old content"
    [left] = storage.abandoned_temporaries(path)
    assert left.parent == tmp_path and left.read_bytes() == b"new content"


def test_a_failed_write_leaves_the_old_content_and_no_temporary(tmp_path):
    path = tmp_path / "card.md"
    storage.write_text(path, "old")
    with pytest.raises(RuntimeError, match="half way"):
        with storage.atomic_file(path) as handle:
            handle.write(b"half")
            raise RuntimeError("half way")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["card.md"]


def test_writes_create_the_directory_and_replace_whole_files(tmp_path):
    target = tmp_path / "a" / "b" / "record.json"
    assert storage.write_json(target, {"run_id": "r1", "value": 1.5}) == target
    assert json.loads(target.read_text()) == {"run_id": "r1", "value": 1.5} and target.read_text().endswith("\n")
    storage.write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    copied = storage.copy_file(target, tmp_path / "copy.bin")
    assert copied.read_bytes() == b"\x00\x01"
    assert sorted(os.listdir(target.parent)) == ["record.json"]


def test_replace_symlink_switches_the_pointer(tmp_path):
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    storage.replace_symlink(tmp_path / "current", "1")
    storage.replace_symlink(tmp_path / "current", "2")
    assert os.readlink(tmp_path / "current") == "2"
    assert sorted(os.listdir(tmp_path)) == ["1", "2", "current"]


def test_every_catalogued_failpoint_is_hit_once_in_the_code_and_documented():
    """The catalogue is the crash tests' list: each entry is named by exactly one module and in README's tables."""
    import re

    from tfxgate.storage import failpoints

    repo = Path(__file__).resolve().parents[1]
    folders = [repo / "tfxgate", repo / "components", repo / "pipelines"]
    code = "".join(path.read_text() for folder in folders for path in folder.rglob("*.py"))
    named = re.findall(r'failpoints\.named\("([^"]+)"\)', code)
    assert sorted(named) == sorted(failpoints.NAMES), "each failpoint is named once, and only catalogued ones"
    readme = (repo / "README.md").read_text()
    assert [n for n in failpoints.NAMES if f"`{n}`" not in readme] == []
    every = failpoints.reached_by(
        failpoints.PUSH,
        failpoints.PIPELINE,
        failpoints.APPROVE,
        failpoints.ROLLBACK,
        failpoints.OBJECT_STORE,
        failpoints.CANARY,
        failpoints.PROMOTE,
        failpoints.ABORT,
    )
    assert every == list(failpoints.NAMES), "every failpoint is reached by some operation"
    assert failpoints.reached_by(failpoints.ROLLBACK) == ["rollback.after_current", "rollback.after_record"]


def test_an_unknown_failpoint_or_operation_is_refused(monkeypatch):
    from tfxgate.storage import failpoints

    with pytest.raises(KeyError, match="failpoint 'publish.after_nothing' is not in .*failpoints.py CATALOGUE"):
        failpoints.named("publish.after_nothing")
    with pytest.raises(ValueError, match="unknown operation"):
        failpoints.reached_by("deploy")
    monkeypatch.setenv(failpoints.ENV, "publish.after_renam")
    failpoints._armed.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"TFXGATE_FAILPOINTS: unknown failpoint\(s\) publish.after_renam"):
            failpoints.check_armed()
    finally:
        monkeypatch.delenv(failpoints.ENV)
        failpoints._armed.cache_clear()
