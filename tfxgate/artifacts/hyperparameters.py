"""Reading the Tuner's result: a HyperParameters artifact (best values) and its TunerResults (every trial).

TFX's Tuner writes `best_hyperparameters.txt` (KerasTuner's `HyperParameters.get_config()`
as JSON: the search space and the best `values`) and `tuner_results.json` (one
record per completed trial: `trial_id`, `score` and the trial's values). The
Trainer reads the first as `fn_args.hyperparameters`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Optional

from tfxgate.storage import filesystem

BEST_FILE = "best_hyperparameters.txt"
RESULTS_FILE = "tuner_results.json"


@dataclass
class Hyperparameters:
    """The best hyperparameters a model was trained with, and the search that found them."""

    artifact_id: int
    uri: str
    values: Optional[dict[str, Any]]  # None when the file is gone
    tuner_execution_id: Optional[int] = None
    tuner_run_id: Optional[str] = None  # the pipeline run that searched (an earlier one when reused)
    reused: bool = False  # the model's own run did not tune: it took this result from an earlier run
    trials: list[dict[str, Any]] = field(default_factory=list)  # [{trial_id, score, <values>}], best first


def _json(path: str) -> Optional[Any]:
    try:
        return json.loads(filesystem.read_text(path))
    except (OSError, ValueError) as err:
        logging.warning("cannot read %s: %s", path, err)
        return None


def best_values(uri: str) -> Optional[dict[str, Any]]:
    """The best values in a HyperParameters artifact directory; None when unreadable."""
    config = _json(f"{uri.rstrip('/')}/{BEST_FILE}")
    return dict(config.get("values", {})) if isinstance(config, dict) else None


def trials(uri: str) -> list[dict[str, Any]]:
    """The trials in a TunerResults artifact directory ([] when unreadable)."""
    found = _json(f"{uri.rstrip('/')}/{RESULTS_FILE}")
    return list(found) if isinstance(found, list) else []


def read(artifact, *, results=None) -> Hyperparameters:
    """A HyperParameters artifact, with the trials of its TunerResults sibling when given."""
    return Hyperparameters(
        artifact_id=artifact.id,
        uri=artifact.uri,
        values=best_values(artifact.uri),
        trials=trials(results.uri) if results is not None else [],
    )
