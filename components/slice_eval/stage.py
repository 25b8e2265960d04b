"""The pipeline stages tfxgate builds from SliceEval (used by pipelines/build.py).

`baseline` resolves the latest pushed model; `evaluation` is the SliceEval node
that replaces the stock Evaluator, with the same `blessing` output the stock
Pusher reads.
"""

from __future__ import annotations

from tfx import v1 as tfx

from tfxgate.components.slice_eval.baseline import CANDIDATE, MODEL, LatestPushedModelStrategy
from tfxgate.components.slice_eval.component import SliceEval


def baseline(config, candidate_model):
    """The latest blessed-and-pushed model of this pipeline other than the candidate."""
    return tfx.dsl.Resolver(
        strategy_class=LatestPushedModelStrategy,
        **{MODEL: tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model), CANDIDATE: candidate_model},
    ).with_id("baseline_model_resolver")


def evaluation(config, examples, model, baseline_model):
    """SliceEval on the eval split, configured by `stages.evaluation`."""
    return SliceEval(
        examples=examples,
        model=model,
        baseline_model=baseline_model,
        stage=config.stages.evaluation,
        label=config.data.label,
    ).with_id("SliceEval")
