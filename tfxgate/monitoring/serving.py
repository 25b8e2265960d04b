"""What a destination serves, and what each served model was trained and evaluated on.

`served` reads the destination's `current` version (and, during a canary, its
candidate) from the push root and the version manifests; `baseline` walks ML
Metadata from each model (tfxgate/lineage/evidence.py) to its training span
(the Examples it was trained on) and its evaluation at push time (SliceEval's
report rows), and computes the model's own predictions on its evaluation
split with the pushed SavedModel: the reference of prediction drift.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional

import numpy as np

from tfxgate.artifacts import examples as example_files
from tfxgate.drift import tables
from tfxgate.governance import publish, rollout_state
from tfxgate.lineage.evidence import collect
from tfxgate.mlmd import audit
from tfxgate.storage import filesystem
from tfxgate.storage.filesystem import Location


class NothingServed(LookupError):
    """The destination serves no version (never pushed, or unknown)."""


@dataclass(frozen=True)
class Served:
    role: str  # stable | candidate
    version: str
    directory: Location  # the version's folder: the pushed SavedModel
    model_id: Optional[int]
    pushed_model_id: Optional[int] = None


@dataclass
class Baseline:
    """What one served model is compared with."""

    # The training split's summary (tfxgate/drift/columns.py), read one record batch at a time.
    training: Mapping[str, np.ndarray] = field(default_factory=dict)
    categorical: set = field(default_factory=set)
    at_push: dict = field(default_factory=dict)  # slice name -> {metric: value}
    examples_uri: Optional[str] = None
    evaluation_uri: Optional[str] = None


def served(destination: Location, *, name: str) -> list[Served]:
    """The stable version `current` points at, then the canary's candidate (`rollout.json`) when there is one."""
    destination = filesystem.location(destination)
    state = rollout_state.read(destination)
    candidate = state.candidate if state is not None else None
    found = []
    for role, version in (("stable", publish.current_version(destination)), ("candidate", candidate)):
        if not version:
            continue
        manifest = publish.read_manifest(destination / version) or {}
        found.append(Served(role, version, destination / version, manifest.get("model_id")))
    if not found:
        raise NothingServed(f"destination '{name}' ({destination}) serves no version yet: push a model first")
    return found


def with_pushed_model(store, item: Served, *, pipeline: str, destination: str) -> Served:
    """`item` with the id of the PushedModel artifact its push recorded (None when none is found)."""
    pushes = [
        r
        for r in audit.records(store, pipeline=pipeline, kinds=(audit.PUSH,))
        if r.destination == destination and r.version == item.version and r.pushed_model_id is not None
    ]
    if not pushes:
        return item
    return Served(
        item.role, item.version, item.directory, item.model_id or pushes[-1].model_id, pushes[-1].pushed_model_id
    )


def baseline(store, model_id: int, *, label: str) -> Baseline:
    """The model's training span (a summary of its `train` split, without the label: memory flat in the
    rows, as DataDrift's) and its push-time slice metrics."""
    evidence = collect(store, model_artifact_id=model_id)
    found = Baseline()
    if evidence.examples is not None:
        found.examples_uri = uri = evidence.examples.uri
        found.training, found.categorical = tables.summarise(
            example_files.split_batches(uri, "train"), source=f"the training split of {uri}", leave_out={label}
        )
    if evidence.evaluation is not None:
        found.evaluation_uri = evidence.evaluation.report_uri
        found.at_push = {
            row["slice"]: {m: cell.get("value") for m, cell in row.get("metrics", {}).items()}
            for row in evidence.evaluation.slices
        }
    return found


def reference_predictions(model_dir: Location, examples_uri: str, *, split: str = "eval") -> np.ndarray:
    """The model's predictions on a split of its Examples: serialized tf.Examples through `serving_default`.

    tfxgate's trainer contract (README, "Writing your own trainer"): `serving_default(examples)`
    returns `outputs` [batch, 1]. Imports TensorFlow (seconds).
    """
    import tensorflow as tf

    files = sorted(filesystem.glob(os.path.join(examples_uri, f"Split-{split}", "*")))
    if not files:
        raise FileNotFoundError(f"no example files in {examples_uri}/Split-{split}")
    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    out = []
    for batch in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(1024):
        out.append(np.asarray(serve(examples=batch)["outputs"]).reshape(-1))
    return np.concatenate(out) if out else np.zeros(0)
