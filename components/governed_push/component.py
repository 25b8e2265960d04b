"""GovernedPush: a TFX component that pushes a model only when its gates and approval policy allow.

    model ──────────────┐
    examples (Ingest) ──┤
    anomalies ──────────┼─> GovernedPush ─> pushed_model (PushedModel)
    drift_blessing ─────┤        │
    model_blessing ─────┤        └─> <push root>/<destination>/<version>/, `current`
    infra_blessing? ────┘

Class-based (spec + executor) so every piece of gate evidence is an optional
typed input: a gate whose channel is wired but which produced nothing fails,
rather than the node silently not running. It replaces the stock Pusher in
pipelines/build.py; `governed_push_stage` is the one-line swap.
"""

from __future__ import annotations

import json
from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from tfxgate.components.drift.component import DriftBlessing
from tfxgate.components.governed_push.executor import Executor
from tfxgate.components.governed_push.settings import PushStage

NODE_ID = "GovernedPush"


class GovernedPushSpec(ComponentSpec):
    PARAMETERS = {
        "settings": ExecutionParameter(type=str),  # PushStage as JSON
        "required_gates": ExecutionParameter(type=str),  # JSON list of gate names
        "card": ExecutionParameter(type=str, optional=True),  # JSON: how to reach ML Metadata for the card
    }
    INPUTS = {
        "model": ChannelParameter(type=standard_artifacts.Model),
        "examples": ChannelParameter(type=standard_artifacts.Examples, optional=True),
        "anomalies": ChannelParameter(type=standard_artifacts.ExampleAnomalies, optional=True),
        "drift_blessing": ChannelParameter(type=DriftBlessing, optional=True),
        "model_blessing": ChannelParameter(type=standard_artifacts.ModelBlessing, optional=True),
        "infra_blessing": ChannelParameter(type=standard_artifacts.InfraBlessing, optional=True),
    }
    OUTPUTS = {"pushed_model": ChannelParameter(type=standard_artifacts.PushedModel)}


class GovernedPush(base_component.BaseComponent):
    """Gated, policy-governed, atomic, versioned push (drop-in for the stock Pusher)."""

    SPEC_CLASS = GovernedPushSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(
        self,
        *,
        model: types.BaseChannel,
        stage: PushStage,
        examples: Optional[types.BaseChannel] = None,
        anomalies: Optional[types.BaseChannel] = None,
        drift_blessing: Optional[types.BaseChannel] = None,
        model_blessing: Optional[types.BaseChannel] = None,
        infra_blessing: Optional[types.BaseChannel] = None,
        card: str = "",
    ):
        wired = {
            "ingestion": examples,
            "validation": anomalies,
            "drift": drift_blessing,
            "evaluation": model_blessing,
            "infra": infra_blessing,
        }
        spec = GovernedPushSpec(
            model=model,
            examples=examples,
            anomalies=anomalies,
            drift_blessing=drift_blessing,
            model_blessing=model_blessing,
            infra_blessing=infra_blessing,
            settings=stage.model_dump_json(),
            required_gates=json.dumps([gate for gate, channel in wired.items() if channel is not None]),
            card=card,
            pushed_model=types.Channel(type=standard_artifacts.PushedModel),
        )
        super().__init__(spec=spec)


def governed_push_stage(
    config,
    *,
    model,
    examples,
    anomalies=None,
    drift_blessing=None,
    model_blessing=None,
    infra_blessing=None,
    target: str = "local",
) -> GovernedPush:
    """The GovernedPush node for `stages.push` (pipelines/build.py wires it).

    On the local target the executor may open the pipeline's ML Metadata store
    (read-only, for the model card's evidence); the config it gets names the
    store and at most the *name* of a password variable, never a secret.
    """
    card = ""
    if target == "local":
        card = json.dumps(
            {
                "metadata": config.metadata.model_dump(mode="json"),
                "root": str(config.pipeline.root),
                "card_info": _card_info(config),
            },
            sort_keys=True,
        )
    return GovernedPush(
        model=model,
        stage=config.stages.push,
        examples=examples,
        anomalies=anomalies,
        drift_blessing=drift_blessing,
        model_blessing=model_blessing,
        infra_blessing=infra_blessing,
        card=card,
    ).with_id(NODE_ID)


def _card_info(config):
    info = getattr(config.stages.push, "model_card", None)  # lands with the model card (feature/lineage-card)
    return info.model_dump(mode="json") if info is not None else None
