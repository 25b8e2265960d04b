"""The one filesystem layer: an advisory file lock and an atomic file write.

Everything tfxgate makes durable outside ML Metadata goes through here: the
pipeline root's run lock, the governance and push locks, the SQLite queue, the
`current` pointer of a push destination, run summaries, reports, schema
proposals, drift reports and model cards; no TFX import.

- `filesystem`: every path the config accepts, by scheme: local paths, `gs://`
  (google-cloud-storage) and `s3://` (boto3), clients imported on first use;
  `filesystem.check_uri` says which scheme works for which config key.

- `lock.file_lock`: an `fcntl` lock that dies with its process, blocking or not;
  `RUN_LOCK_FILE` names the pipeline root's run lock.
- `atomic`: write to a temporary file in the same directory, fsync, `os.replace`,
  fsync the directory: a reader (or a process that survives a crash) sees the old
  content or the new one, never half of one.
"""

from tfxgate.storage.atomic import (
    abandoned_temporaries,
    atomic_file,
    copy_file,
    fsync_dir,
    replace_symlink,
    write_bytes,
    write_json,
    write_text,
)
from tfxgate.storage.lock import RUN_LOCK_FILE, Held, LockHeld, file_lock

__all__ = [
    "RUN_LOCK_FILE",
    "Held",
    "LockHeld",
    "abandoned_temporaries",
    "atomic_file",
    "copy_file",
    "file_lock",
    "fsync_dir",
    "replace_symlink",
    "write_bytes",
    "write_json",
    "write_text",
]
