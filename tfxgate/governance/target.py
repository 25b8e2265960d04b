"""The pipeline as governance sees it: a name, a store, a push root and its destinations.

Values, not the YAML: `PipelineConfig.governed()` builds these, so this layer
never depends on the config model. Cheap to import (no ML Metadata).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from tfxgate.governance.rollout_state import RolloutPolicy
from tfxgate.mlmd.settings import MetadataSection, SqliteMetadata
from tfxgate.storage.filesystem import Location


@dataclass(frozen=True)
class Destination:
    """One push destination as governance needs it: where, and who must agree."""

    directory: Location  # a Path, or a filesystem.RemotePath on an object store
    approval: str = "auto"  # auto | manual
    credentials_env: Optional[str] = None
    rollout: RolloutPolicy = RolloutPolicy()  # direct (the default): a push replaces `current`


@dataclass(frozen=True)
class GovernedPipeline:
    """The values governance needs of a pipeline (built from its config by `PipelineConfig.governed()`).

    Values, not the config: this layer knows nothing of the YAML.
    """

    name: str
    root: Path  # the pipeline root (where an embedded store and the governance lock live)
    metadata: MetadataSection
    push_root: Location
    destinations: Mapping[str, Destination] = field(default_factory=dict)
    card_info: Any = None  # stages.push.model_card (ModelCardInfo)
    source: Optional[Path] = None  # the config file, named in messages

    @property
    def missing_store(self) -> Optional[Path]:
        """The embedded store's file when it does not exist yet (the pipeline never ran); else None."""
        if isinstance(self.metadata, SqliteMetadata):
            from tfxgate.mlmd.store import sqlite_path  # ml_metadata: only when asked

            path = sqlite_path(self.metadata, root=self.root)
            return None if path.exists() else path
        return None
