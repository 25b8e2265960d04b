"""Spans for scheduled retraining: the newest span on disk, and the span a past run ingested.

`tfxgate run --if-new-data` on versioned data (`{SPAN}`, `{VERSION}` or a
`{YYYY}{MM}{DD}` date in `data.path`) asks two questions, both answered here
without importing TFX, so the "nothing new" answer stays fast:

- `newest_span(config)`: the span (and version) the Ingest stage would read now,
  resolved from the file names exactly as ExampleGen's driver does: the highest
  `{SPAN}` number (or date, as days since 1970-01-01), then the highest
  `{VERSION}` within it; or the fixed `data.span`.
- `ingested_span(store, run_id=...)`: the span of the Examples artifact that run
  produced (or re-published from cache), read from ML Metadata.
"""

from __future__ import annotations

import datetime
import glob
import re
from dataclasses import dataclass
from typing import Optional

from tfxgate.mlmd.graph import Graph, value
from tfxgate.pipelines.config.root import SPAN_SPEC_PATTERN, PipelineConfig

_EPOCH = datetime.date(1970, 1, 1)
# Event types under which an execution publishes (or, cached, re-publishes) an artifact.


@dataclass(frozen=True, order=True)
class Span:
    """A span number and, for `{VERSION}` layouts, its version (None when the pattern has none)."""

    span: int
    version: Optional[int] = None

    def __str__(self) -> str:
        return f"span {self.span}" + (f" version {self.version}" if self.version is not None else "")


def _regex(pattern: str) -> re.Pattern:
    """A regex over full paths that captures the spec fields of `pattern` (globs match anything)."""
    out, pos = [], 0
    for spec in re.finditer(SPAN_SPEC_PATTERN, pattern):
        out.append(_glob_to_regex(pattern[pos : spec.start()]))
        name, _, width = spec.group(1).partition(":")
        digits = rf"\d{{{width}}}" if width else {"YYYY": r"\d{4}", "MM": r"\d{2}", "DD": r"\d{2}"}.get(name, r"\d+")
        group = name.lower()
        # A spec may repeat (span-{SPAN}/part-{SPAN}.csv): later ones must equal the first.
        out.append(f"(?P={group})" if f"(?P<{group}>" in "".join(out) else f"(?P<{group}>{digits})")
        pos = spec.end()
    out.append(_glob_to_regex(pattern[pos:]))
    return re.compile("".join(out) + r"\Z")


def _glob_to_regex(text: str) -> str:
    return "".join({"*": "[^/]*", "?": "[^/]"}.get(ch, re.escape(ch)) for ch in text)


def _span_of(match: re.Match) -> int:
    fields = match.groupdict()
    if "span" in fields:
        return int(fields["span"])
    if "yyyy" in fields:
        date = datetime.date(int(fields["yyyy"]), int(fields["mm"]), int(fields["dd"]))
        return (date - _EPOCH).days
    return 0


def spans_on_disk(pattern: str) -> list[Span]:
    """Every (span, version) the files matching `pattern` carry, sorted."""
    regex = _regex(pattern)
    found = set()
    for path in glob.glob(re.sub(SPAN_SPEC_PATTERN, "*", pattern)):
        match = regex.match(path)
        if match:
            version = match.groupdict().get("version")
            found.add(Span(_span_of(match), int(version) if version is not None else None))
    return sorted(found)


def newest_span(config: PipelineConfig) -> Optional[Span]:
    """The span Ingest would read now (None when `data.path` has no span spec, or nothing matches)."""
    data = config.data
    if not data.has_span:
        return None
    spans = spans_on_disk(data.path)
    if data.span != "latest":
        spans = [s for s in spans if s.span == data.span]
    if not spans:
        return None
    latest = max(s.span for s in spans)
    return max(s for s in spans if s.span == latest)


def ingested_span(store, *, run_id: str) -> Optional[Span]:
    """The span of the Examples the run `run_id` produced or re-published, from ML Metadata."""
    graph = Graph(store)
    examples = graph.outputs(graph.run_executions(run_id), type_name="Examples")
    spans = [Span(value(a, "span"), value(a, "version")) for a in examples if value(a, "span") is not None]
    return max(spans, default=None)
