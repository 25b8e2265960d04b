"""What the `tfxgate` command shows on the terminal, and what it keeps in the log file.

A pipeline run loads TensorFlow, TFX, Beam and CUDA libraries, and the Trainer
builds and pip-installs a wheel: each writes to the process's stdout/stderr,
from Python, from C++ and from child processes (CUDA "Unable to register cuDNN
factory" lines on a CPU-only machine, pydantic's serializer warning, setuptools'
build output). `quiet` sends all of it, at the file-descriptor level, to
`<root>/logs/tfxgate.log`, and keeps the terminal for tfxgate's own lines;
`--verbose` leaves the console as it is. `closed_pipe_safe` makes
`tfxgate history --json | head -1` end quietly. `repeat_options` is what a
printed command needs to work when pasted.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence, TextIO


@contextlib.contextmanager
def quiet(log_path: Path, *, verbose: bool) -> Iterator[TextIO]:
    """Yields the stream for tfxgate's own lines (the terminal). Within, everything else written
    to stdout/stderr — Python (Keras' progress bar, warnings), C++ (TF, CUDA) and child processes
    (setuptools, pip) — goes to `log_path`; Python logging too, errors also to the terminal.

    With `verbose`, nothing is redirected and logging shows INFO on the console as well.
    """
    file_handler = logging.FileHandler(log_path)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    file_handler.setLevel(logging.INFO)
    root_logger = logging.getLogger()
    root_logger.setLevel(logging.INFO)
    logging.captureWarnings(True)  # numpy/TFMA warnings belong in the log file
    if not verbose and os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2") == "2":
        # TF reads this when first imported (after this point); "3" hides its harmless
        # "Unable to register cuDNN factory" errors. A user's own setting is kept.
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    if verbose or not _has_fds():
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.INFO if verbose else logging.ERROR)
        if not verbose:
            console.addFilter(_no_traceback)
        root_logger.handlers[:] = [file_handler, console]
        yield sys.stdout
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    terminal = io.TextIOWrapper(os.fdopen(os.dup(saved[1]), "wb"), line_buffering=True)
    errors = io.TextIOWrapper(os.fdopen(os.dup(saved[2]), "wb"), line_buffering=True)
    try:
        for fd in (1, 2):
            os.dup2(log_fd, fd)
        console = logging.StreamHandler(errors)
        console.setLevel(logging.ERROR)
        console.addFilter(_no_traceback)
        root_logger.handlers[:] = [file_handler, console]
        yield terminal
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        os.close(log_fd)
        root_logger.handlers[:] = [file_handler]
        terminal.close()
        errors.close()


def _no_traceback(record: logging.LogRecord) -> bool:
    """The progress lines name a failure's cause; its traceback belongs in the log file only."""
    return not record.exc_info


def _has_fds() -> bool:
    """False under pytest's capsys and the like: no real terminal to keep apart."""
    try:
        return sys.stdout.fileno() == 1 and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


def closed_pipe_safe(main: Callable[[], int]) -> int:
    """Runs `main`; a reader that stopped reading (`| head`) ends it quietly, exit 1 (Python's own convention)."""
    try:
        code = main()
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null so that flush succeeds.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 1


def repeat_options(*, config: Path, root: Optional[Path], overrides: Sequence[str]) -> str:
    """The `-c`, `--root` and `--set` options of this invocation, shell-quoted, for a printed command.

    >>> repeat_options(config=Path("configs/taxi.yaml"), root=None, overrides=["a.b=x y"])
    "-c configs/taxi.yaml --set 'a.b=x y'"
    """
    parts = ["-c", str(config)]
    if root is not None:
        parts += ["--root", str(Path(root).expanduser().resolve())]
    for item in overrides:
        parts += ["--set", item]
    return shlex.join(parts)


def metadata_problem(err: Exception, *, config: Path, root: Optional[Path], overrides: Sequence[str]) -> str:
    """A MetadataError's message; where the schema needs creating or upgrading, with the exact command that does it.

    The command repeats this invocation's config, `--root` and `--set` options
    (`... has no ML Metadata schema yet: run `tfxgate metadata check configs/taxi.yaml
    --set a=b --upgrade` to create or upgrade it`).
    """
    if not getattr(err, "needs_upgrade", False):
        return str(err)
    options = shlex.split(repeat_options(config=config, root=root, overrides=overrides))[2:]  # all but `-c CONFIG`
    command = shlex.join(["tfxgate", "metadata", "check", str(config), *options, "--upgrade"])
    return f"{err.problem}: run `{command}` to create or upgrade it"
