"""A model's identity by content: the SHA-256 of a SavedModel directory's files and their relative paths.

A push is identified by (model, destination): the same model must never become
two versions of one destination, whichever run, retry or process pushes it.
The Model artifact id names a model inside one ML Metadata store; the
fingerprint also recognises it in a push root whose store record was lost (it
is written in the version's manifest) and across stores (Kubeflow, notebooks).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tfxgate.storage import filesystem

PREFIX = "sha256:"


def model_fingerprint(directory) -> str:
    """`sha256:<hex>` over every regular file under `directory` (sorted relative path, size, bytes).

    Files written beside the model by tfxgate itself (the model card, the push
    manifest) are not part of the model and are skipped, so a published
    version has the same fingerprint as the model it was copied from.

    Example:
      >>> model_fingerprint(Path("serving/taxi/staging/1"))  # doctest: +SKIP
      'sha256:3f1c...'
    """
    digest = hashlib.sha256()
    if filesystem.is_remote(directory):  # a version on an object store: the same bytes in the same order
        remote = filesystem.location(directory)
        for relative in filesystem.files(remote):
            if relative not in NOT_MODEL:
                data = filesystem.read_bytes(remote / relative)
                digest.update(relative.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
        return PREFIX + digest.hexdigest()
    root = Path(directory)
    files = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in names:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if relative in NOT_MODEL or not path.is_file():
                continue
            files.append((relative, path))
    for relative, path in sorted(files):
        digest.update(relative.encode() + b"\0" + str(path.stat().st_size).encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return PREFIX + digest.hexdigest()


# Files tfxgate adds to a published version (see tfxgate/reporting/model_card.py and publish.py).
NOT_MODEL = frozenset({"model_card.md", "model_card.html", "tfxgate-push.json"})
