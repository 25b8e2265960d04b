"""The configs serving systems read, rendered from a destination's rollout state after every change.

    <destination>/serving/models.config          TF Serving `--model_config_file` (ModelServerConfig text proto)
    <destination>/serving/inferenceservice.yaml  KServe InferenceService (serving.kserve.io/v1beta1)

TF Serving: one model whose `base_path` is the destination (its numbered
versions are TF Serving's version folders), a `specific` version policy that
loads exactly the stable version and the candidate, and the version labels
`stable` and `canary` (clients or a router address `/versions/labels/canary`;
TF Serving itself splits no traffic, so the weights are in `rollout.json` and
the KServe manifest). Built with TF Serving's own proto
(`tensorflow_serving.config.model_server_config_pb2`, from
`tensorflow-serving-api`) and printed with `text_format`.

KServe: the predictor serves the candidate's version with
`canaryTrafficPercent` = its weight while there is one (KServe keeps the last
rolled-out revision, the stable one, for the rest of the traffic), and the
stable version alone otherwise. `storageUri` is the version's directory under
`rollout.storage_uri` (default: the destination itself).

Both files are derived: each is written atomically after `rollout.json`, and
`rollout.reconcile` rewrites them when a kill came between (`stale`).
Pure: protobuf and `tfxgate.storage`; no TensorFlow import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import yaml
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from tfxgate.governance.rollout_state import RolloutState
from tfxgate.storage import filesystem
from tfxgate.storage.filesystem import Location, RemotePath

FOLDER = "serving"
TF_SERVING = "models.config"
KSERVE = "inferenceservice.yaml"
STABLE_LABEL, CANARY_LABEL = "stable", "canary"


def model_name(state: RolloutState, destination: Location) -> str:
    """The model's name in both configs: `rollout.model_name`, else the destination's folder name."""
    return state.model_name or filesystem.location(destination).name


def tf_serving(state: RolloutState, destination: Location) -> model_server_config_pb2.ModelServerConfig:
    """TF Serving's ModelServerConfig for this state (see the module docstring)."""
    config = model_server_config_pb2.ModelServerConfig()
    model = config.model_config_list.config.add()
    model.name = model_name(state, destination)
    model.base_path = _uri(destination)
    model.model_platform = "tensorflow"
    served = [v for v in (state.stable, state.candidate) if v]
    model.model_version_policy.specific.versions.extend(sorted({int(v) for v in served}))
    if state.stable:
        model.version_labels[STABLE_LABEL] = int(state.stable)
    if state.candidate:
        model.version_labels[CANARY_LABEL] = int(state.candidate)
    return config


def tf_serving_text(state: RolloutState, destination: Location) -> str:
    return text_format.MessageToString(tf_serving(state, destination))


def kserve(state: RolloutState, destination: Location) -> dict:
    """The KServe InferenceService (v1beta1) for this state, as a dict (see the module docstring)."""
    metadata = {"name": model_name(state, destination), "labels": {"app.kubernetes.io/managed-by": "tfxgate"}}
    if state.namespace:
        metadata["namespace"] = state.namespace
    served = state.candidate or state.stable
    predictor: dict = {}
    if state.candidate is not None and state.stable:
        predictor["canaryTrafficPercent"] = state.weight
    predictor["model"] = {
        "modelFormat": {"name": "tensorflow"},
        "storageUri": f"{(state.storage_uri or _uri(destination)).rstrip('/')}/{served}",
    }
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": metadata,
        "spec": {"predictor": predictor},
    }


def kserve_yaml(state: RolloutState, destination: Location) -> str:
    return yaml.safe_dump(kserve(state, destination), sort_keys=False)


def rendered(state: RolloutState, destination: Location) -> dict[str, str]:
    """File name (under `serving/`) -> content, for this state."""
    if not (state.stable or state.candidate):
        return {}
    return {TF_SERVING: tf_serving_text(state, destination), KSERVE: kserve_yaml(state, destination)}


def write(destination: Location, state: RolloutState) -> list[Location]:
    """Writes both configs (each one atomic write); returns their paths."""
    folder = filesystem.location(destination) / FOLDER
    written = []
    for name, text in rendered(state, destination).items():
        written.append(filesystem.write_text(folder / name, text))
    return written


def stale(destination: Location, state: RolloutState) -> list[str]:
    """The configs that do not say what `state` says (missing or out of date): what a kill left behind."""
    folder = filesystem.location(destination) / FOLDER
    return [name for name, text in rendered(state, destination).items() if _read(folder / name) != text]


def _read(path: Location) -> Optional[str]:
    try:
        return filesystem.read_text(path)
    except FileNotFoundError:
        return None


def _uri(destination: Location) -> str:
    destination = filesystem.location(destination)
    return str(destination) if isinstance(destination, RemotePath) else str(Path(destination).resolve())
