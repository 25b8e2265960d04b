"""What `tfxgate check` can see of a config's inputs without running anything.

- The trainer module parses and defines `run_fn` at its top level (read with
  `ast`: nothing is imported, so no TensorFlow), instead of failing minutes into
  a run when the Trainer calls it.
- Every local data file `data.path` matches exists, is not empty, is text (CSV)
  or Parquet, has at least one row, and its header names every column the
  curated schema requires. Only the start of each file is read (the header and
  the first row of a CSV; a Parquet file's footer), so this stays fast on big
  data. Remote sources (`gs://`, `s3://`, ...) are not opened: `check` says so.

Each problem is (key path, message); the message names the file, and the line
and column where there is one. No TFX import here.
"""

from __future__ import annotations

import ast
import codecs
import csv
import difflib
import glob
import re
from pathlib import Path
from typing import Optional

from tensorflow_metadata.proto.v0 import schema_pb2

from tfxgate.settings import is_remote

__all__ = [
    "SPAN_SPEC_PATTERN",
    "InputProblem",
    "data_files",
    "data_problems",
    "entry_point_problem",
    "header",
    "is_remote",
    "required_columns",
    "trainer_problem",
]

# ExampleGen's span/version/date specs, usable anywhere in data.path.
SPAN_SPEC_PATTERN = r"\{(SPAN(:\d+)?|VERSION(:\d+)?|YYYY|MM|DD)\}"
_HEAD_BYTES = 64 * 1024  # enough for a header and a first row


class InputProblem(ValueError):
    """A data file that cannot be ingested as it is."""


def trainer_problem(module_file: Path) -> Optional[str]:
    """Why the trainer module cannot serve TFX's Trainer, or None.

    >>> trainer_problem(Path("trainers/taxi/trainer.py")) is None
    True
    """
    return entry_point_problem(module_file, name="run_fn", caller="TFX's Trainer calls run_fn(fn_args)")


def entry_point_problem(module_file: Path, *, name: str, caller: str) -> Optional[str]:
    """Why `module_file` does not define the top-level function `name` taking an argument, or None.

    Read with `ast`, nothing imported. `caller` says who calls it how, for the message
    (e.g. "TFX's Transform calls preprocessing_fn(inputs)").
    """
    raw = Path(module_file).read_bytes()
    try:
        tree = ast.parse(raw, filename=str(module_file))
    except SyntaxError as err:
        return f"{module_file}: line {err.lineno}, column {err.offset}: {err.msg} (the module does not parse)"
    except ValueError as err:  # NUL bytes, bad encoding
        return f"{module_file}: not a Python source file ({err})"
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            params = node.args.posonlyargs + node.args.args
            if not params and node.args.vararg is None:
                return f"{module_file}: line {node.lineno}: {name} takes no argument; {caller}"
            return None
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return None
        if isinstance(node, ast.Import | ast.ImportFrom):
            if any((alias.asname or alias.name) == name for alias in node.names):
                return None
    return f"{module_file} defines no top-level {name} ({caller})"


def required_columns(schema: schema_pb2.Schema, *, environment: Optional[str]) -> set[str]:
    """Features the schema requires in every example of `environment` (deprecated ones excluded)."""
    required = set()
    for feature in schema.feature:
        if feature.lifecycle_stage in (schema_pb2.DEPRECATED, schema_pb2.DISABLED):
            continue
        if not (feature.presence.min_fraction > 0 or feature.presence.min_count > 0):
            continue
        if environment and environment in feature.not_in_environment:
            continue
        if environment and feature.in_environment and environment not in feature.in_environment:
            continue
        required.add(feature.name)
    return required


def data_files(pattern: str) -> list[str]:
    """The local files a `data.path` (a file, or a glob with {SPAN}-style specs) names."""
    return sorted(f for f in glob.glob(re.sub(SPAN_SPEC_PATTERN, "*", pattern)) if Path(f).is_file())


def header(path: str, *, fmt: str) -> list[str]:
    """The column names of a data file, checking it has at least one row.

    Raises:
      InputProblem: empty, not text / not Parquet, no rows, a blank or repeated column name.
    """
    if fmt == "parquet":
        return _parquet_header(path)
    with open(path, "rb") as handle:
        head = handle.read(_HEAD_BYTES)
    if not head.strip():
        raise InputProblem(f"{path}: empty file (no header, no rows)")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputProblem(f"{path}: UTF-16 text; save it as UTF-8")
    nul = head.find(b"\x00")
    if nul >= 0:
        raise InputProblem(f"{path}: not a CSV text file (NUL byte at offset {nul})")
    first, _, rest = head.partition(b"\n")
    try:
        text = first.rstrip(b"\r").decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        raise InputProblem(
            f"{path}: line 1, column {err.start + 1}: the header is not UTF-8 text (byte 0x{first[err.start]:02x})"
        ) from None
    names = next(csv.reader([text]), [])
    for column, name in enumerate(names, start=1):
        if not name.strip():
            raise InputProblem(f"{path}: line 1, column {column}: empty column name in the header")
        if name in names[: column - 1]:
            raise InputProblem(f"{path}: line 1, column {column}: column {name!r} appears twice in the header")
    if not rest.strip():
        raise InputProblem(f"{path}: a header but no rows")
    return [name.strip() for name in names]


def _parquet_header(path: str) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise InputProblem(f"{path}: not a Parquet file ({err})") from None
    if parquet.metadata.num_rows == 0:
        raise InputProblem(f"{path}: a schema but no rows")
    return list(parquet.schema_arrow.names)


def data_problems(
    pattern: str, *, fmt: str, required: set[str], key: Optional[str], where_required: str
) -> list[tuple[str, str]]:
    """(config key, message) for every problem of the local files `pattern` names (see the module docstring)."""
    files = data_files(pattern)
    if not files:
        return [("data.path", f"no data file matches {pattern}")]
    # Spans are read one at a time (or a range), and a later span may add a column:
    # only the files of an unversioned path must share one header.
    one_header = re.search(SPAN_SPEC_PATTERN, pattern) is None
    problems = []
    first: Optional[tuple[str, list[str]]] = None
    for path in files:
        try:
            names = header(path, fmt=fmt)
        except InputProblem as err:
            problems.append(("data.path", str(err)))
            continue
        missing = sorted(required - set(names))
        if missing:
            lacks = f"{path}: line 1: the header lacks {_columns(missing, names)}, required by {where_required}"
            problems.append(("data.path", lacks))
        elif key and key not in names:
            problems.append(("data.key", f"{path}: line 1: the header lacks {_columns([key], names)}"))
        elif first is None:
            first = (path, names)
        elif one_header and names != first[1]:
            problems.append(("data.path", f"{path}: line 1: header differs from {first[0]}'s: {names} vs {first[1]}"))
    return problems


def _columns(missing: list[str], names: list[str]) -> str:
    described = []
    for name in missing:
        near = difflib.get_close_matches(name, names, n=1)
        described.append(f"{name!r}" + (f" (renamed {near[0]!r}?)" if near else ""))
    return f"column{'s' if len(missing) > 1 else ''} {', '.join(described)}"
