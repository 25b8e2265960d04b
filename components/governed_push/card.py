"""The model card call point: written inside the temporary version directory, before the rename.

The card itself (Markdown + HTML from the evidence in ML Metadata) belongs to
`tfxgate.pipelines.model_card` and `tfxgate.pipelines.evidence` (see
CONTRACTS.md). This module only calls them when they are installed, so a push
works the same before and after that code lands; a card that cannot be written
fails the push (a version without its card is not published).
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any, Callable, Optional


def _card_modules():
    try:
        model_card = importlib.import_module("tfxgate.pipelines.model_card")
        evidence = importlib.import_module("tfxgate.pipelines.evidence")
    except ModuleNotFoundError as err:  # only "not there yet"; any other import error must surface
        if err.name not in ("tfxgate.pipelines.model_card", "tfxgate.pipelines.evidence"):
            raise
        return None
    return model_card, evidence


def card_writer(
    open_store: Optional[Callable[[], Any]], *, model_id: Optional[int], card_info: Any = None
) -> Callable[[Path], None]:
    """A `before_rename` hook for `publish.publish` that writes model_card.md/.html into the version.

    Args:
      open_store: opens the ML Metadata store holding the model's evidence (None: no store reachable,
        e.g. inside a Kubeflow container, and then no card).
      model_id: the Model artifact's id in that store.
      card_info: `stages.push.model_card` (intended use, limitations), if configured.
    """

    def write(version_dir: Path) -> None:
        modules = _card_modules()
        if modules is None or open_store is None or model_id is None:
            logging.info("model card skipped: tfxgate.pipelines.model_card is not installed or no store")
            return
        model_card, evidence = modules
        store = open_store()
        found = evidence.collect(store, model_artifact_id=model_id)
        model_card.write(version_dir, evidence=found, card_info=_typed(card_info))

    return write


def _typed(card_info: Any) -> Any:
    """`stages.push.model_card` as its typed model when it arrives as JSON (inside the executor)."""
    if not isinstance(card_info, dict):
        return card_info
    try:
        from tfxgate.pipelines.model_card_config import ModelCardInfo
    except ModuleNotFoundError:
        return card_info
    return ModelCardInfo.model_validate(card_info)
