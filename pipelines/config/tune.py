"""`stages.tune`: stock TFX Tuner (KerasTuner) before the Trainer, and when to tune again.

The search space, objective, trial count and steps per trial are declared here
and reach the trainer module's `tuner_fn` through TFX's `custom_config` (under
`tune`; tfxgate/tuning/keras_search.py turns them into a KerasTuner search).
The Trainer then trains with the best hyperparameters (`fn_args.hyperparameters`).

`rerun` says when the search runs again; otherwise the pipeline is built without
the Tuner and the Trainer gets the last best hyperparameters from ML Metadata
(pipelines/tuning.py decides, when the pipeline is built):

    rerun: every_run              tune on every run
    rerun: data_changed           tune when the input's fingerprint differs from the last tuning's (default)
    rerun: {every_n_spans: 4}     tune when the span is at least 4 past the last tuning's span

Any change of this section or of `stages.trainer.hyperparameters` also tunes again.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, model_validator

from tfxgate.settings import Section

Scalar = Union[int, float, str, bool]
EVERY_RUN = "every_run"
DATA_CHANGED = "data_changed"


class SearchParameter(Section):
    """One hyperparameter's search: `choices: [...]`, or a range `min`..`max` (integers -> Int, else Float)."""

    choices: Optional[list[Scalar]] = Field(default=None, min_length=1)
    min: Optional[Union[int, float]] = None
    max: Optional[Union[int, float]] = None
    step: Optional[Union[int, float]] = Field(default=None, gt=0)
    sampling: Literal["linear", "log"] = "linear"

    @model_validator(mode="after")
    def _choices_or_range(self) -> SearchParameter:
        ranged = self.min is not None or self.max is not None
        if self.choices is not None:
            if ranged or self.step is not None:
                raise ValueError("give either choices or min/max, not both")
            if len(set(map(repr, self.choices))) != len(self.choices):
                raise ValueError(f"choices repeat a value: {self.choices}")
            return self
        if self.min is None or self.max is None:
            raise ValueError("give choices: [...], or both min and max")
        if self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if self.sampling == "log" and self.min <= 0:
            raise ValueError(f"log sampling needs min > 0, got {self.min}")
        return self

    def to_json(self) -> dict[str, object]:
        """The plain-JSON form the trainer module reads (tfxgate/tuning/keras_search.py)."""
        return self.model_dump(exclude_none=True)


class Objective(Section):
    metric: str = Field(default="val_loss", description="A metric of the trial's fit history, e.g. val_loss.")
    direction: Literal["min", "max"] = "min"


class EveryNSpans(Section):
    every_n_spans: int = Field(ge=1)


class TuneStage(Section):
    enabled: bool = False
    algorithm: Literal["random", "bayesian"] = "random"
    search_space: dict[str, SearchParameter] = Field(
        default_factory=dict, description="Hyperparameter name -> choices or range; the trainer module names them."
    )
    objective: Objective = Objective()
    max_trials: int = Field(default=10, ge=1, description="Trials (hyperparameter sets) tried per search.")
    train_steps: int = Field(default=100, gt=0, description="Training steps per trial.")
    eval_steps: int = Field(default=20, gt=0, description="Evaluation steps per trial (the objective's data).")
    seed: int = 42
    rerun: Union[Literal["every_run", "data_changed"], EveryNSpans] = Field(
        default=DATA_CHANGED, description="every_run | data_changed | {every_n_spans: N}"
    )

    @model_validator(mode="after")
    def _space_when_enabled(self) -> TuneStage:
        if self.enabled and not self.search_space:
            raise ValueError("search_space: name at least one hyperparameter to tune (or set enabled: false)")
        return self

    def custom_config(self) -> dict[str, object]:
        """The `tune` entry of the Tuner's custom_config: what the module's `tuner_fn` searches."""
        return {
            "algorithm": self.algorithm,
            "search_space": {name: p.to_json() for name, p in sorted(self.search_space.items())},
            "objective": self.objective.model_dump(),
            "max_trials": self.max_trials,
            "seed": self.seed,
        }
