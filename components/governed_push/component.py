"""GovernedPush: a TFX component that pushes a model only when its gates and approval policy allow.

    model ──────────────┐
    examples (Ingest) ──┤
    anomalies ──────────┼─> GovernedPush ─> pushed_model (PushedModel)
    drift_blessing ─────┤        │
    model_blessing ─────┤        └─> <push root>/<destination>/<version>/, `current`
    infra_blessing? ────┘

Class-based (spec + executor) so every piece of gate evidence is an optional
typed input: a gate whose channel is wired but which produced nothing fails,
rather than the node silently not running. It replaces the stock Pusher;
`tfxgate.pipelines.stages.governed_push` builds it from the config.
"""

from __future__ import annotations

import json
from pathlib import Path
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
        # JSON {pipeline, run_id} on Kubeflow, where TFX's executor context names neither (kubeflow_run_parameter)
        "kubeflow_run": ExecutionParameter(type=str, optional=True),
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
        kubeflow_run: str = "",
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
            kubeflow_run=kubeflow_run or None,
            pushed_model=types.Channel(type=standard_artifacts.PushedModel),
        )
        super().__init__(spec=spec)


def card_parameter(*, metadata: dict, root: Path, card_info: Optional[dict]) -> str:
    """GovernedPush's `card` parameter: how its executor reaches ML Metadata for the model card.

    Args:
      metadata: the `metadata:` section as JSON-able values (names at most a password *variable*).
      root: the pipeline root (where the SQLite store lives).
      card_info: the `stages.push.model_card` section as JSON-able values.
    """
    return json.dumps({"metadata": metadata, "root": str(root), "card_info": card_info}, sort_keys=True)


# KFP's placeholder for the run's name, which the backend substitutes in a parameter's
# constant value (what the kfp SDK compiles `dsl.PIPELINE_JOB_NAME_PLACEHOLDER` to).
KFP_RUN_NAME = "{{$.pipeline_job_name}}"


def kubeflow_run_parameter(pipeline: str) -> str:
    """GovernedPush's `kubeflow_run` parameter: the pipeline's name and KFP's run name, for the push records."""
    return json.dumps({"pipeline": pipeline, "run_id": KFP_RUN_NAME}, sort_keys=True)
