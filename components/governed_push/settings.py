"""The typed `stages.push` section: a push root and named destinations under it.

    push:
      root: ../serving/taxi              # every destination lives under this directory
      destinations:
        staging:    {path: staging, approval: auto}
        production: {path: production, approval: manual, credentials_env: TAXI_PROD_TOKEN,
                     rollout: {kind: canary, weight: 10}}

A destination is a path *relative to the push root*; the config refuses one that
leaves it (`..`, an absolute path elsewhere, a symlink pointing out), naming the
key, because a push writes and renames directories there. `credentials_env` is
the *name* of an environment variable, never its value: nothing secret is
stored in config, ML Metadata or a model card. `rollout` says how a new
version goes live: `direct` (default: it replaces `current`), `canary` (it
becomes the candidate beside the stable version with `weight` percent of the
traffic, until `tfxgate promote` / `tfxgate abort`) or `blue_green` (the same
at weight 100). No TFX import here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from tfxgate.governance.rollout_state import RolloutPolicy
from tfxgate.reporting.model_card_settings import ModelCardInfo
from tfxgate.settings import OutputDir, Section
from tfxgate.storage import filesystem
from tfxgate.storage.filesystem import Location

ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


DNS_LABEL_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"  # a Kubernetes (RFC 1035) name: the InferenceService's


class Rollout(Section):
    """How a new version goes live at a destination (README "Canary rollout")."""

    kind: Literal["direct", "canary", "blue_green"] = Field(
        default="direct",
        description="direct: replace the live version; canary: candidate beside the stable version at `weight`%; "
        "blue_green: the same at 100%. Promote or abort with `tfxgate promote` / `tfxgate abort`.",
    )
    weight: Optional[int] = Field(
        default=None,
        ge=1,
        le=100,
        description="The candidate's percent of traffic (canary default 10; blue_green is always 100).",
    )
    model_name: Optional[str] = Field(
        default=None,
        max_length=63,
        pattern=DNS_LABEL_PATTERN,
        description="Model name in the TF Serving config and the KServe InferenceService (default: the destination's).",
    )
    namespace: Optional[str] = Field(
        default=None, max_length=63, pattern=DNS_LABEL_PATTERN, description="KServe namespace of the InferenceService."
    )
    storage_uri: Optional[str] = Field(
        default=None,
        description="Where KServe reads the versions from (gs://, s3://, pvc://...); default: the destination.",
    )

    @model_validator(mode="after")
    def _weight_fits_kind(self) -> Rollout:
        if self.kind == "direct" and self.weight is not None:
            raise ValueError("weight is for kind canary or blue_green (a direct push takes all traffic)")
        if self.kind == "blue_green" and self.weight not in (None, 100):
            raise ValueError(f"blue_green moves all traffic at once: weight must be 100 (or unset), not {self.weight}")
        return self

    def policy(self) -> RolloutPolicy:
        """As governance takes it (values, not the config)."""
        default = 10 if self.kind == "canary" else 100
        return RolloutPolicy(
            kind=self.kind,
            weight=self.weight if self.weight is not None else default,
            model_name=self.model_name or "",
            namespace=self.namespace or "",
            storage_uri=self.storage_uri or "",
        )


class Destination(Section):
    """One place a model is pushed to, and who must agree first."""

    path: str = Field(description="Directory under the push root, e.g. `production`.")
    approval: Literal["auto", "manual"] = Field(
        default="auto", description="auto: push when every gate passes; manual: wait for `tfxgate approve`."
    )
    credentials_env: Optional[str] = Field(
        default=None,
        pattern=ENV_NAME_PATTERN,
        description="Name of the env var holding the credentials (never the value).",
    )
    rollout: Rollout = Field(default_factory=Rollout, description="How a new version goes live here.")

    @field_validator("path")
    @classmethod
    def _no_parent(cls, value: str) -> str:
        if ".." in Path(value).parts:
            raise ValueError(f"{value!r} contains '..': a destination must stay inside the push root")
        if not value.strip():
            raise ValueError("must name a directory under the push root")
        return value


def _default_destinations() -> dict[str, Destination]:
    return {"serving": Destination(path=".", approval="auto")}


class PushStage(Section):
    enabled: bool = True
    root: OutputDir = Field(description="Push root: every destination is a directory inside it.")
    destinations: dict[str, Destination] = Field(
        default_factory=_default_destinations, description="Destination name -> path, approval policy, credentials."
    )
    model_card: ModelCardInfo = ModelCardInfo()

    @field_validator("destinations")
    @classmethod
    def _some(cls, value: dict[str, Destination]) -> dict[str, Destination]:
        if not value:
            raise ValueError("name at least one destination")
        return value

    def destination_dir(self, name: str) -> Location:
        """The directory of destination `name` (checked to be inside the root by `check_destinations`);
        a `filesystem.RemotePath` when the push root is on an object store."""
        if filesystem.is_remote(self.root):
            return filesystem.location(self.root) / self.destinations[name].path
        return Path(os.path.normpath(Path(self.root) / self.destinations[name].path))


def escapes_root(root: Location, path: str) -> Optional[str]:
    """Why `path` (a destination's `path`) leaves `root`, or None when it stays inside.

    Symlinks are followed as far as they exist now; `publish` checks again at
    push time, since a link can appear later.
    """
    if filesystem.is_remote(root):
        return f"{path} is an absolute path, not a prefix under the push root {root}" if path.startswith("/") else None
    root = Path(root)
    if Path(path).is_absolute() and not Path(os.path.normpath(path)).is_relative_to(root):
        return f"{path} is an absolute path outside the push root {root}"
    target = Path(os.path.realpath(root / path))
    real_root = Path(os.path.realpath(root))
    if not target.is_relative_to(real_root):
        return f"{path} resolves (through a symlink) to {target}, outside the push root {real_root}"
    return None


def check_destinations(push: PushStage) -> list[tuple[list[str], str]]:
    """(key path, message) for every destination that leaves the push root or shares a directory."""
    problems: list[tuple[list[str], str]] = []
    seen: dict[Location, str] = {}
    why = filesystem.check_uri("stages.push.root", str(push.root))
    if why:
        return [(["stages", "push", "root"], why)]
    for name, destination in push.destinations.items():
        key = ["stages", "push", "destinations", name, "path"]
        why = escapes_root(filesystem.location(push.root), destination.path)
        if why:
            problems.append((key, why))
            continue
        directory = push.destination_dir(name)
        if directory in seen:
            problems.append((key, f"same directory as destination {seen[directory]!r}: {directory}"))
        seen[directory] = name
    return problems
