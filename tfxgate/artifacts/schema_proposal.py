"""Schema proposals: what a run without a curated schema inferred, and adopting it.

A run with no `schema:` in its config infers one (SchemaGen on Validate's
statistics). `tfxgate run` copies it beside the run, under
`<root>/runs/<run id>/schema.pbtxt` with a `proposal.json`, and prints how to
adopt it; a person reviews it and runs

    tfxgate schema adopt <root>/runs/<run id> [--to schemas/<pipeline>/schema.pbtxt] [--force]

which copies it atomically (`storage.copy_file`: a temporary file renamed into
place, so readers see the old file or the new one, never half of one) and
refuses to replace an existing curated schema without `--force`. Protobuf
only, no TensorFlow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from tfxgate import storage
from tfxgate.artifacts.schema import read_schema

SCHEMA_NAME = "schema.pbtxt"
RECORD_NAME = "proposal.json"


class AdoptError(ValueError):
    """A proposal that cannot be adopted (missing, unparsable, or the target exists)."""


def propose(inferred: Path, *, root: Path, pipeline: str, run_id: str) -> Path:
    """Copies the inferred schema to `<root>/runs/<run id>/schema.pbtxt`; returns that path."""
    run_dir = root / "runs" / run_id.replace(":", "-")
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / SCHEMA_NAME
    header = (
        f"# Schema inferred by run {run_id} of pipeline '{pipeline}' (no curated schema configured).\n"
        "# Review it (domains, presence, environments), then: tfxgate schema adopt " + str(run_dir) + "\n"
    )
    storage.write_text(target, header + Path(inferred).read_text())
    record = {"pipeline": pipeline, "run_id": run_id, "inferred_from": str(inferred)}
    storage.write_json(run_dir / RECORD_NAME, record)
    return target


def adopt(run: Path, *, to: Optional[Path] = None, force: bool = False) -> Path:
    """Copies a run's proposed schema to `to` (default `schemas/<pipeline>/schema.pbtxt`); returns `to`.

    Args:
      run: the run's proposal directory (printed by `tfxgate run`) or its schema.pbtxt.
      to: where the curated schema goes.
      force: replace an existing file at `to`.

    Raises:
      AdoptError: naming the missing proposal, the parse error, or the existing target.
    """
    run = Path(run)
    source = run / SCHEMA_NAME if run.is_dir() else run
    if not source.is_file():
        raise AdoptError(f"no schema proposal at {source} (expected the directory `tfxgate run` printed)")
    read_schema(source)  # raises SchemaFileError (a ValueError) naming the file and line
    if to is None:
        record = source.parent / RECORD_NAME
        if not record.is_file():
            raise AdoptError(f"{record} is missing: pass --to to say where the schema goes")
        to = Path("schemas") / json.loads(record.read_text())["pipeline"] / SCHEMA_NAME
    to = Path(to)
    if to.exists() and not force:
        raise AdoptError(f"{to} already exists (a curated schema); pass --force to replace it")
    return storage.copy_file(source, to)
