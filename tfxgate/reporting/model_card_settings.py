"""The `stages.push.model_card` section: what a model card says that ML Metadata cannot.

Intended use, known limitations and owners are written by people, so they live
in the config; everything else on the card comes from the evidence in ML
Metadata (tfxgate/lineage/evidence.py). Kept apart from the config models so the
push section (components/governed_push/settings.py) and the card renderer
(tfxgate/reporting/model_card.py) share it without importing the whole config.
"""

from __future__ import annotations

from pydantic import Field

from tfxgate.settings import Section


class ModelCardInfo(Section):
    """Text for the model card; every field is optional and shown as 'not stated' when empty."""

    intended_use: str = Field(default="", description="Who should use the model, for what decisions.")
    limitations: list[str] = Field(default_factory=list, description="Known limitations and out-of-scope uses.")
    owners: list[str] = Field(default_factory=list, description="Team or people answerable for the model.")
