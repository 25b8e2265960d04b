"""SliceEval: a TFX component that evaluates a model per slice with TFMA and gates it.

Class-based (spec + Beam executor) because it runs a Beam pipeline with the
pipeline's `beam_pipeline_args`. Its config travels as one JSON execution
property (the validated `EvaluationStage`), so an unchanged config keeps the
TFX cache key unchanged.
"""

from __future__ import annotations

from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from tfxgate.components.slice_eval.executor import Executor
from tfxgate.components.slice_eval.label_kinds import BINARY_LABEL, LabelKind
from tfxgate.components.slice_eval.settings import EvaluationStage

# The evaluation output is TFX's standard `ModelEvaluation`, not a subtype: TFX
# checks a channel's type by class name (`ChannelParameter.type_check`), so a
# subtype would be refused wherever a stock component or resolver expects a
# ModelEvaluation. Its directory is what a stock Evaluator's holds (TFMA's format
# at the root: `tfma.load_eval_result(uri)`), plus report.json and report.html.
# README, "Outputs". Kept under its old name for the facade.
SliceEvaluation = standard_artifacts.ModelEvaluation


class SliceEvalSpec(ComponentSpec):
    PARAMETERS = {
        "settings": ExecutionParameter(type=str),
        "label": ExecutionParameter(type=str),
        "label_kind": ExecutionParameter(type=str, optional=True),
        "num_classes": ExecutionParameter(type=int, optional=True),
        "example_split": ExecutionParameter(type=str),
        # `runner.max_in_memory_bytes`: above it the fast engine hands over to the beam engine. Absent when
        # unset (the default bound applies), so an existing pipeline's cache key stays the same.
        "max_in_memory_bytes": ExecutionParameter(type=int, optional=True),
    }
    INPUTS = {
        "examples": ChannelParameter(type=standard_artifacts.Examples),
        "model": ChannelParameter(type=standard_artifacts.Model),
        "baseline_model": ChannelParameter(type=standard_artifacts.Model, optional=True),
    }
    OUTPUTS = {
        "blessing": ChannelParameter(type=standard_artifacts.ModelBlessing),
        "evaluation": ChannelParameter(type=SliceEvaluation),
    }


class SliceEval(base_beam_component.BaseBeamComponent):
    """Per-slice evaluation and blessing (drop-in for the stock Evaluator's `blessing`)."""

    SPEC_CLASS = SliceEvalSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(
        self,
        *,
        examples: types.BaseChannel,
        model: types.BaseChannel,
        stage: EvaluationStage,
        label: str,
        label_kind: LabelKind = BINARY_LABEL,
        baseline_model: Optional[types.BaseChannel] = None,
        example_split: str = "eval",
        max_in_memory_bytes: Optional[int] = None,
    ):
        spec = SliceEvalSpec(
            examples=examples,
            model=model,
            baseline_model=baseline_model,
            settings=stage.model_dump_json(),
            label=label,
            label_kind=label_kind.kind,
            num_classes=label_kind.num_classes,
            example_split=example_split,
            blessing=types.Channel(type=standard_artifacts.ModelBlessing),
            evaluation=types.Channel(type=SliceEvaluation),
            **({} if max_in_memory_bytes is None else {"max_in_memory_bytes": max_in_memory_bytes}),
        )
        super().__init__(spec=spec)
