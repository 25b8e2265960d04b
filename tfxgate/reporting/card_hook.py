"""The model card call point: written inside the temporary version directory, before the rename.

The card itself (Markdown + HTML from the evidence in ML Metadata) comes from
`tfxgate.reporting.model_card` and the lineage walker `tfxgate.lineage.evidence`. It is written
into the version before the atomic rename, so a published version always has its
card; a card that cannot be written fails the push. The push's own audit record
is not in ML Metadata yet at that moment, so the card is given it here.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Optional


def card_writer(
    open_store: Optional[Callable[[], Any]],
    *,
    model_id: Optional[int],
    card_info: Any = None,
    push: Optional[dict] = None,
) -> Callable[[Path, str], None]:
    """A `before_rename` hook for `publish.publish` that writes model_card.md/.html into the version.

    Args:
      open_store: opens the ML Metadata store holding the model's evidence (None: no store reachable,
        e.g. inside a Kubeflow container, and then no card).
      model_id: the Model artifact's id in that store.
      card_info: `stages.push.model_card` (intended use, limitations), if configured.
      push: the push about to happen (`audit.Record` fields: destination, by, reason, gates as JSON, ...),
        shown on the card as its latest decision, with the version `publish` is about to create.
    """

    def write(version_dir: Path, version: str) -> None:
        if open_store is None or model_id is None:
            logging.info("model card skipped: no ML Metadata store reachable from this push")
            return
        from tfxgate.lineage import evidence
        from tfxgate.mlmd import audit
        from tfxgate.reporting import model_card

        found = evidence.collect(open_store(), model_artifact_id=model_id)
        if push is not None:
            found = found.with_decision(audit.Record(None, audit.PUSH, version=version, at=audit.now(), **push))
        model_card.write(version_dir, evidence=found, card_info=_typed(card_info))

    return write


def _typed(card_info: Any) -> Any:
    """`stages.push.model_card` as its typed model when it arrives as JSON (inside the executor)."""
    if not isinstance(card_info, dict):
        return card_info
    from tfxgate.reporting.model_card_settings import ModelCardInfo

    return ModelCardInfo.model_validate(card_info)
