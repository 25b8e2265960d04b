"""What happened in one run, node by node: the runner fills it, the summary and the CLI read it.

Plain dataclasses with no TFX import, so the run summary and the report can use
them without the runner that produced them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


@dataclass
class NodeOutcome:
    """What happened to one pipeline node in one run."""

    node_id: str
    state: str  # complete | cached | failed | skipped | resolved
    seconds: float
    execution_id: Optional[int] = None
    error: Optional[str] = None


@dataclass
class RunOutcome:
    """The result of one local run, as the CLI summary and the tests read it."""

    pipeline_name: str
    run_id: str
    root: Path
    metadata: str  # where the store is (a path or mysql://user@host:port/db), never a password
    nodes: list[NodeOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed_node(self) -> Optional[NodeOutcome]:
        return next((n for n in self.nodes if n.state == "failed"), None)

    @property
    def succeeded(self) -> bool:
        return self.failed_node is None

    @property
    def fully_cached(self) -> bool:
        ran = [n for n in self.nodes if n.execution_id is not None and n.state != "resolved"]
        return self.succeeded and bool(ran) and all(n.state == "cached" for n in ran)
