"""Reading a config YAML with line numbers, applying `--set` overrides, and
turning validation failures into one readable error.

Kept apart from `config.py` (the model itself) because it is about where values
came from — a file and line, or the command line — not what they mean.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml
from pydantic import ValidationError


class ConfigError(ValueError):
    """A config that cannot be used. `problems` lists (key path, line, message)."""

    def __init__(self, path: Path, problems: list[tuple[str, Optional[int], str]]):
        self.path = path
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        lines = [f"{path}: invalid config ({count})"]
        for key, line, message in problems:
            where = f" (line {line})" if line else ""
            lines.append(f"  - {key or '<top level>'}{where}: {message}")
        super().__init__("\n".join(lines))

    @classmethod
    def from_validation(cls, source: YamlSource, err: ValidationError, *, overridden: set[str]) -> ConfigError:
        set_keys = {item.split("=", 1)[0].strip() for item in overridden}
        problems = []
        for detail in err.errors(include_url=False):
            loc = [str(part) for part in detail["loc"]]
            key = ".".join(loc)
            message = _describe(detail)
            if key in set_keys:
                problems.append((key, None, f"{message} (from --set)"))
            else:
                problems.append((key, source.line_of(loc), message))
        return cls(source.path, problems)


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
        message += f" (got {detail['input']!r})"
    return message


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
        text = path.read_text(encoding="utf-8")
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = mark.line + 1 if mark else None
            raise ConfigError(path, [("", line, f"not valid YAML: {getattr(err, 'problem', err)}")]) from None
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

    Values are parsed as YAML (`3` is an int, `[a, b]` a list, `null` None);
    intermediate mappings are created, so `--set stages.push.enabled=false`
    works even where the file omits `stages.push`.
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
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
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
