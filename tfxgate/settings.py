"""Building blocks shared by every section of the typed config.

Path types that resolve relative to the YAML file (`ExistingFile`, `OutputDir`,
`package://dist/path`) and the strict base model every section derives from.
They live apart from `config.py` so that sections kept in their own modules
(metadata, Beam) use the same rules without importing the whole config.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Annotated, Any, Optional, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    PlainSerializer,
    Tag,
    ValidationError,
    ValidationInfo,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from tfxgate.storage import filesystem


def _package_path(spec: str) -> Path:
    """Resolves `package://dist/sub/path` to a file inside an installed package."""
    rest = spec[len("package://") :]
    package, _, sub = rest.partition("/")
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise ValueError(f"package {package!r} is not installed (from {spec!r})")
    return Path(list(found.submodule_search_locations)[0]) / sub


def is_remote(path: str) -> bool:
    """Whether `path` is a URI with a scheme (`gs://`, `s3://`, ...): never resolved against a directory.

    `package://` is not: it names a file of an installed package (`resolve_path`).
    """
    return filesystem.scheme(path) not in ("", "package")


def resolve_path(value: str, info: ValidationInfo) -> Path | str:
    """A local path made absolute against the YAML's directory; a URI with a scheme is returned as it is
    (whether its scheme works for its key is `filesystem.check_uri`'s question, asked by `check`)."""
    if is_remote(value):
        return value
    if value.startswith("package://"):
        return _package_path(value)
    path = Path(os.path.expanduser(value))
    if not path.is_absolute():
        base = (info.context or {}).get("base_dir", Path.cwd())
        path = Path(base) / path
    return Path(os.path.normpath(path))


def _existing_file(value: str, info: ValidationInfo) -> Path:
    if is_remote(value):
        raise ValueError(f"must be a local file, not {filesystem.scheme(value)}:// ({value})")
    path = resolve_path(value, info)
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    return path


def _output_dir(value: str, info: ValidationInfo) -> Path:
    return resolve_path(value, info)


# Validated to a Path; written back as text (without the serializer, pydantic warns on every JSON dump).
_AS_TEXT = PlainSerializer(str, return_type=str, when_used="json")
ExistingFile = Annotated[str, AfterValidator(_existing_file), _AS_TEXT]
OutputDir = Annotated[str, AfterValidator(_output_dir), _AS_TEXT]


class Section(BaseModel):
    """Base for every section: unknown keys are errors, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def by_kind(models: dict[str, type[Section]], *, what: str, default: Optional[str] = None):
    """A section that is one of `models`, chosen by its `kind` key (`default` when absent).

    A discriminated union whose errors name the key the user wrote (`metadata.port`,
    `alerts.sinks.ops.url`), not pydantic's path through the kind (`metadata.mysql.port`),
    and an unknown kind in words: `kind: unknown metadata kind 'x' (known: sqlite, mysql)`.
    """
    known = ", ".join(models)

    def kind_of(value: Any) -> Optional[str]:
        kind = value.get("kind", default) if isinstance(value, dict) else getattr(value, "kind", None)
        return kind if kind in models else None

    def without_kind_in_path(value: Any, handler):
        try:
            return handler(value)
        except ValidationError as err:
            errors = err.errors()
            if any(not e["loc"] for e in errors):  # the discriminator found no known kind
                kind = value.get("kind") if isinstance(value, dict) else value
                found = "required key is missing" if kind is None else f"unknown {what} kind {kind!r}"
                raise PydanticCustomError(f"{what}_kind", f"kind: {found} (known: {known})") from None
            details = [{**{k: e[k] for k in ("type", "input", "ctx") if k in e}, "loc": e["loc"][1:]} for e in errors]
            raise ValidationError.from_exception_data(err.title, details) from None

    return Annotated[
        Union[tuple(Annotated[model, Tag(kind)] for kind, model in models.items())],
        Discriminator(kind_of),
        WrapValidator(without_kind_in_path),
    ]
