"""Reading a config YAML safely and with line numbers, applying `--set` overrides,
and turning validation failures into one readable error.

Kept apart from `root.py` (the model itself) because it is about where values
came from — a file and line, or the command line — not what they mean.

The YAML is read more strictly than `yaml.safe_load` does, because each of its
leniencies hides a mistake in a config: a file that is not UTF-8 text is refused
naming the file (not a `UnicodeDecodeError`); a key written twice is refused
naming both lines (YAML would silently keep the last); anchors and aliases are
refused where they appear, before anything is built from them (an alias bomb
would otherwise expand exponentially, and error messages would echo it). `--set`
values go through the same reader.
"""

from __future__ import annotations

import codecs
import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml
from pydantic import ValidationError
from yaml.reader import ReaderError

# A config is a short hand-written file; anything bigger is a wrong path.
MAX_CONFIG_BYTES = 1 << 20
# Far deeper than any config; refused before the parser slows down.
MAX_DEPTH = 32
# Free-form values handed to user code: an empty string there may be meant.
FREE_FORM_KEYS = (("stages", "trainer", "hyperparameters"),)


class ConfigError(ValueError):
    """A config that cannot be used. `problems` lists (key path, line, message)."""

    def __init__(self, path: Path, problems: list[tuple[str, Optional[int], str]]):
        self.path = path
        self.problems = problems
        if len(problems) == 1 and not problems[0][0]:
            # A problem with the file as a whole: one line naming the file (and the line in it).
            _, line, message = problems[0]
            super().__init__(f"{path}: {f'line {line}: ' if line else ''}{message}")
            return
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        lines = [f"{path}: invalid config ({count})"]
        for key, line, message in problems:
            where = f" (line {line})" if line else ""
            lines.append(f"  - {key or '<top level>'}{where}: {message}")
        super().__init__("\n".join(lines))

    @classmethod
    def from_validation(
        cls,
        source: YamlSource,
        err: ValidationError,
        *,
        overridden: Iterable[str],
        known: list[tuple[str, Optional[int], str]] = (),
    ) -> ConfigError:
        """The validation errors (plus `known` problems found before), each placed in the file or on `--set`."""
        problems = list(known)
        skip = {key for key, _, _ in problems}
        for detail in err.errors(include_url=False):
            loc = [str(part) for part in detail["loc"]]
            key = ".".join(loc)
            if key in skip:
                continue
            problems.append(place(source, loc, _describe(detail), overridden=overridden))
        return cls(source.path, problems)


def place(
    source: YamlSource, loc: list[str], message: str, *, overridden: Iterable[str]
) -> tuple[str, Optional[int], str]:
    """(key, line, message) for a problem at `loc`: its line in the file, or `(from --set)`."""
    key = ".".join(loc)
    set_keys = {item.split("=", 1)[0].strip() for item in overridden}
    if any(key == k or key.startswith(k + ".") for k in set_keys):
        return key, None, f"{message} (from --set)"
    return key, source.line_of(loc), message


def _describe(detail: dict[str, Any]) -> str:
    kind = detail["type"]
    message = detail["msg"]
    if kind == "extra_forbidden":
        return "unknown key (not part of the tfxgate config; check the spelling)"
    if kind == "missing":
        return "required key is missing"
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if "input" in detail and kind not in ("model_type", "dict_type") and not isinstance(detail["input"], dict):
        message += f" (got {_short(detail['input'])})"
    return message


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class YamlProblem(ValueError):
    """Text that is not a usable tfxgate YAML document; `line` is 1-based (None: the whole text)."""

    def __init__(self, message: str, line: Optional[int] = None, key: str = "", *, syntax: bool = False):
        super().__init__(message)
        self.message, self.line, self.key = message, line, key
        self.syntax = syntax  # not YAML at all (as opposed to YAML tfxgate refuses: anchors, duplicates)


def decode(raw: bytes) -> str:
    """The text of a config file's bytes: UTF-8 (a BOM is dropped), else YamlProblem saying what it is."""
    for bom, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if raw.startswith(bom):
            raise YamlProblem(f"the file is {name} text; save it as UTF-8")
    if b"\x00" in raw[:4096]:
        zeros = raw[:4096].count(b"\x00")
        if zeros * 3 >= min(len(raw), 4096):  # every other byte zero: UTF-16 without a BOM
            raise YamlProblem("the file looks like UTF-16 text (NUL bytes); save it as UTF-8")
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise YamlProblem("not a text file (NUL byte); a config is UTF-8 YAML", line)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise YamlProblem(
            f"not UTF-8 text: byte 0x{raw[err.start]:02x} at line {line}, column {column}", line
        ) from None
    return text.removeprefix("\ufeff")


def parse(text: str) -> tuple[Any, Optional[yaml.Node]]:
    """(data, node) of one YAML document, refusing anchors, aliases and duplicate keys.

    Raises:
      YamlProblem: naming the line (and the key, for a duplicate).
    """
    try:
        _refuse_anchors(text)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, None
            _refuse_duplicates(node, [])
            return loader.construct_document(node), node
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 1 if mark else None
        if isinstance(err, ReaderError):
            line = text[: err.position].count("\n") + 1
            return _raise(f"not valid YAML: {err.reason} character {err.character!r}", line)
        where = f", column {mark.column + 1}" if mark else ""
        return _raise(f"not valid YAML{where}: {getattr(err, 'problem', None) or err}", line)
    except RecursionError:
        return _raise("not valid YAML: nested too deeply")


class _Loader(yaml.SafeLoader):
    """SafeLoader whose value errors (a date that does not exist: 2026-02-30) name their line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except YamlProblem:
            raise
        except ValueError as err:
            raise YamlProblem(f"not valid YAML: {err} ({_short(node.value)})", node.start_mark.line + 1) from None


def _raise(message: str, line: Optional[int] = None):
    raise YamlProblem(message, line, syntax=True) from None


def _refuse_anchors(text: str) -> None:
    """Scans the event stream (nothing is built) for the first anchor or alias, and stops at
    nesting deeper than any config needs (PyYAML's scanner slows down quadratically with depth)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlProblem(f"not valid YAML: nested more than {MAX_DEPTH} levels deep", line)
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            depth -= 1
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem(
                f"YAML alias *{event.anchor} is not allowed in a tfxgate config: write the value out", line
            )
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            raise YamlProblem(
                f"YAML anchor &{event.anchor} is not allowed in a tfxgate config: write the value out", line
            )


def _refuse_duplicates(node: yaml.Node, path: list[str]) -> None:
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicates(item, [*path, str(i)])
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[str, str] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise YamlProblem("a key must be a plain name, not a list or mapping", line, ".".join(path))
        key = str(key_node.value)
        where = f"line {line}, column {key_node.start_mark.column + 1}"
        if key in seen:
            raise YamlProblem(
                f"duplicate key {key!r}: first at {seen[key]}, again at {where} (YAML would silently keep the last)",
                line,
                ".".join([*path, key]),
            )
        seen[key] = where
        _refuse_duplicates(value_node, [*path, key])


@dataclass(frozen=True)
class YamlSource:
    """A parsed YAML file that remembers the line of every key."""

    path: Path
    data: Any
    node: Optional[yaml.Node]

    @classmethod
    def read(cls, path: Path) -> YamlSource:
        if not path.is_file():
            raise ConfigError(path, [("", None, "config file not found")])
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(path, [("", None, f"{path.stat().st_size} bytes: too big for a config file")])
        try:
            data, node = parse(decode(path.read_bytes()))
        except YamlProblem as problem:
            raise ConfigError(path, [(problem.key, problem.line, problem.message)]) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(path, [("", 1, f"expected a mapping at the top level, got {type(data).__name__}")])
        return cls(path=path, data=data, node=node)

    def line_of(self, loc: Iterable[str]) -> Optional[int]:
        """1-based line of the deepest key of `loc` that exists in the file."""
        node, line = self.node, None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if str(key_node.value) == part:
                        line, node = key_node.start_mark.line + 1, value_node
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
                node = node.value[int(part)]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def apply_overrides(source: YamlSource, overrides: list[str]) -> dict[str, Any]:
    """Returns a copy of the config data with `key.path=value` overrides applied.

    Values are parsed as YAML by the file's own reader (`3` is an int, `[a, b]` a
    list, `null` None; anchors and duplicate keys refused), and a value that is
    not YAML at all is taken as text (`{YYYY}/{MM}/*.csv`); intermediate mappings
    are created, so `--set stages.push.enabled=false` works even where the file
    omits `stages.push`. An empty value is the empty string (refused by
    `empty_values` where a path or a name is expected).
    """
    data = copy.deepcopy(source.data)
    problems = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            problems.append((key or item, None, f"--set expects key.path=value, got {item!r}"))
            continue
        try:
            value = parse(raw)[0] if raw.strip() else ""
        except YamlProblem as problem:
            if not problem.syntax:  # anchors, duplicate keys: refused as in the file
                problems.append((key, None, f"--set {key}: {problem.message}"))
                continue
            # Not YAML at all (`{YYYY}/{MM}/*.csv`): the text itself, which the key's type then checks.
            value = raw
        *parents, leaf = key.split(".")
        target = data
        for depth, part in enumerate(parents):
            child = target.setdefault(part, {})
            if not isinstance(child, dict):
                problems.append((key, None, f"--set: {'.'.join(parents[: depth + 1])} is not a mapping"))
                break
            target = child
        else:
            target[leaf] = value
    if problems:
        raise ConfigError(source.path, problems)
    return data


def empty_values(data: Any, path: tuple[str, ...] = ()) -> list[list[str]]:
    """Key paths whose value (or key) is an empty string: a path or a name left blank.

    `pipeline.root: ""` (or `--set pipeline.root=`) would otherwise mean the config's
    own folder. Free-form sections handed to user code are skipped.
    """
    if path in FREE_FORM_KEYS:
        return []
    found: list[list[str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and not key.strip():
                found.append([*path, str(key)])
            else:
                found += empty_values(value, (*path, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += empty_values(value, (*path, str(i)))
    elif isinstance(data, str) and not data.strip():
        found.append(list(path))
    return found
