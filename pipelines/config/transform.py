"""`stages.transform`: stock TFX Transform with the config's `preprocessing_fn` module.

Transform runs after validation and before training: it analyses the
`analyze_splits` of Ingest's examples against the run's schema, writes the
transform graph and the transformed `transform_splits`, and keeps its pre- and
post-transform statistics. The Trainer then reads the transformed examples and
the graph (TFX's standard wiring), and the trainer module exports a serving
signature that applies the same graph to raw tf.Examples, so training and
serving cannot disagree on a feature.

The module must define a top-level `preprocessing_fn(inputs)`; it is checked at
load (read with `ast`, nothing imported), like the trainer's `run_fn`. As with
the Trainer, TFX packages every `.py` in the module's folder: keep it alone there.
No TensorFlow/TFX import here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from pydantic import Field, field_validator, model_validator

from tfxgate.pipelines.config.inputs import entry_point_problem
from tfxgate.settings import ExistingFile, Section

__all__ = ["TransformStage"]

CALLER = "TFX's Transform calls preprocessing_fn(inputs)"


class TransformStage(Section):
    """Stock TFX Transform between validation and training (off unless `enabled`)."""

    enabled: bool = False
    module_file: Optional[ExistingFile] = Field(
        default=None,
        description="Python module with a top-level `preprocessing_fn(inputs)`; keep it alone in its folder.",
    )
    analyze_splits: list[str] = Field(
        default_factory=lambda: ["train"], min_length=1, description="Splits the analyzers (mean, vocabulary) read."
    )
    transform_splits: list[str] = Field(
        default_factory=lambda: ["train", "eval"],
        min_length=1,
        description="Splits written transformed, for the Trainer.",
    )
    custom_config: dict[str, Union[int, float, str, bool, list[int], list[str]]] = Field(
        default_factory=dict, description="Passed to preprocessing_fn(inputs, custom_config) when it takes one."
    )
    statistics: bool = Field(
        default=True, description="Keep Transform's pre- and post-transform statistics (shown in the report)."
    )

    @field_validator("module_file")
    @classmethod
    def _defines_preprocessing_fn(cls, module_file: Optional[Path]) -> Optional[Path]:
        why = module_file and entry_point_problem(Path(module_file), name="preprocessing_fn", caller=CALLER)
        if why:
            raise ValueError(why)
        return module_file

    @model_validator(mode="after")
    def _enabled_needs_a_module(self) -> TransformStage:
        if self.enabled and self.module_file is None:
            raise ValueError("module_file is required when enabled: a module defining preprocessing_fn(inputs)")
        return self

    def split_problems(self, splits: set[str]) -> list[tuple[list[str], str]]:
        """(key path, message) for each analyze/transform split that `data.splits` does not make."""
        problems = []
        for key in ("analyze_splits", "transform_splits"):
            for name in getattr(self, key):
                if name not in splits:
                    problems.append(
                        (["stages", "transform", key], f"split {name!r} is not in data.splits ({sorted(splits)})")
                    )
        return problems
