"""`tfxgate init DIR`: a starter project copied from the taxi example the wheel ships.

(`tfxgate init DIR --csv FILE --label COLUMN` writes a project for the user's own
data instead: `csv_starter.py`.)

The wheel carries the repo's demo (config, curated schema, trainer module) as
package data under `tfxgate/examples/taxi/`, in the repo's own layout (setup.py;
in the repo that folder links to `configs/`, `schemas/` and `trainers/`). Copying
it keeps the layout, so the config's relative paths (`../schemas/...`,
`../trainers/...`, the root `../runs/taxi`, the push root `../serving/taxi`) point
inside DIR and `tfxgate run DIR/configs/taxi.yaml` runs the demo without the repo.
Its data is the taxi sample inside the `tfx` wheel (`package://tfx/...`).
"""

from __future__ import annotations

import shlex
import shutil
from importlib import resources
from pathlib import Path

CONFIG = Path("configs/taxi.yaml")  # inside the starter project: what `tfxgate run` takes


class StarterExists(ValueError):
    """DIR already holds one of the starter's files; nothing was written."""


def _example_files() -> dict[Path, Path]:
    """The shipped example: path inside a starter project -> the installed file."""
    example = Path(str(resources.files("tfxgate") / "examples" / "taxi"))
    return {
        path.relative_to(example): path
        for path in sorted(example.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts  # bytecode of an imported trainer
    }


def run_command(config: Path) -> str:
    """The command that runs a starter project's config, as a user pastes it."""
    return f"tfxgate run {shlex.quote(str(config))}"


def refuse_existing(paths: list[Path]) -> None:
    """Raises `StarterExists` naming each of `paths` that exists."""
    existing = [str(path) for path in paths if path.exists()]
    if existing:
        raise StarterExists(f"already exists: {', '.join(existing)}; choose another directory")


def write_starter(directory: Path) -> list[Path]:
    """Copies the taxi example into `directory`; returns the files written.

    Refuses (`StarterExists`, before writing anything) when one of them exists, so
    a user's edited config or trainer is never overwritten.
    """
    files = _example_files()
    refuse_existing([directory / name for name in files])
    for name, source in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, directory / name)
    return [directory / name for name in files]
