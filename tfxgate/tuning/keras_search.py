"""`stages.tune` -> a KerasTuner search that a trainer module's `tuner_fn` hands to TFX's Tuner.

The config's `tune` entry of `custom_config` (pipelines/config/tune.py) names the
search space, objective, trial count and algorithm; the trainer module supplies
one function, `train_and_score(values) -> {metric: value}`, that trains its model
with those hyperparameter values for the Tuner's steps and returns the last
epoch's metrics (Keras `History.history`).

Why a `run_trial` override rather than a HyperModel: KerasTuner 1.4 follows the
`keras` package (Keras 3 in this stack) and refuses models built with tf.keras,
which tfxgate keeps on Keras 2 (`TF_USE_LEGACY_KERAS=1`, as TFX and TFMA need).
A tuner whose trials call the module's own training code never hands it a model.

    from tfxgate.tuning import keras_search

    def tuner_fn(fn_args):
        tune = fn_args.custom_config["tune"]
        tuner = keras_search.tuner(tune, train_and_score=..., directory=fn_args.working_dir)
        return tfx.components.TunerFnResult(tuner=tuner, fit_kwargs={})

    def run_fn(fn_args):
        values = keras_search.best_values(fn_args.hyperparameters)   # {} when not tuned
"""

from __future__ import annotations

from typing import Any, Callable, Optional

TrainAndScore = Callable[[dict[str, Any]], dict[str, float]]


def search_space(space: dict[str, dict[str, Any]]):
    """The declared space as `keras_tuner.HyperParameters` (choices -> Choice, integer range -> Int, else Float)."""
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    for name, spec in space.items():
        if "choices" in spec:
            values = spec["choices"]
            if len({type(v) for v in values}) > 1:
                raise ValueError(f"stages.tune.search_space.{name}.choices mix types ({values}): use one type")
            hp.Choice(name, values)
            continue
        low, high, step, sampling = spec["min"], spec["max"], spec.get("step"), spec.get("sampling", "linear")
        if all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high, step or 1)):
            hp.Int(name, low, high, step=step, sampling=sampling)
        else:
            hp.Float(name, float(low), float(high), step=step, sampling=sampling)
    return hp


def tuner(tune: dict[str, Any], *, train_and_score: TrainAndScore, directory: str, project: str = "tfxgate"):
    """A KerasTuner tuner searching `tune["search_space"]`, each trial one `train_and_score(values)` call."""
    import keras_tuner

    bases = {"random": keras_tuner.RandomSearch, "bayesian": keras_tuner.BayesianOptimization}
    objective = tune.get("objective") or {"metric": "val_loss", "direction": "min"}
    metric = objective["metric"]

    class Search(bases[tune.get("algorithm", "random")]):
        def run_trial(self, trial, *args, **kwargs):
            del args, kwargs  # TFX's Tuner passes the TunerFnResult's fit_kwargs: none here
            scores = train_and_score(dict(trial.hyperparameters.values))
            if metric not in scores:
                raise ValueError(
                    f"stages.tune.objective.metric {metric!r} is not a metric the trial reports ({sorted(scores)})"
                )
            return scores

    return Search(
        hyperparameters=search_space(tune["search_space"]),
        objective=keras_tuner.Objective(metric, direction=objective["direction"]),
        max_trials=int(tune["max_trials"]),
        seed=int(tune.get("seed", 42)),
        directory=directory,
        project_name=project,
        overwrite=True,
    )


def best_values(hyperparameters: Optional[dict[str, Any]]) -> dict[str, Any]:
    """The values of the Tuner's best hyperparameters (TFX's `fn_args.hyperparameters`); {} when not tuned.

    TFX hands the Trainer KerasTuner's `HyperParameters.get_config()`: the space and its `values`.
    """
    if not hyperparameters:
        return {}
    return dict(hyperparameters.get("values", {}))


def check_names(names, *, tunable: tuple[str, ...]) -> None:
    """Raises ValueError naming the `stages.tune.search_space` entries a trainer module does not tune."""
    unknown = sorted(set(names) - set(tunable))
    if unknown:
        raise ValueError(f"stages.tune.search_space names {unknown}; this trainer tunes {list(tunable)}")


def with_values(hp: dict[str, Any], values: dict[str, Any], *, tunable: tuple[str, ...]) -> dict[str, Any]:
    """The trainer's hyperparameters with tuned `values` in place.

    `layers` and `units` stand for `hidden_units: [units] * layers` (a list is no KerasTuner
    value); a missing one keeps the configured `hidden_units`' count or first width.

    >>> with_values({"hidden_units": [32, 16], "learning_rate": 0.01}, {"units": 8},
    ...             tunable=("learning_rate", "units"))
    {'hidden_units': [8, 8], 'learning_rate': 0.01}
    """
    check_names(values, tunable=tunable)
    merged = {**hp, **{k: v for k, v in values.items() if k not in ("layers", "units")}}
    hidden = list(hp.get("hidden_units", [32, 16]))
    if "layers" in values or "units" in values:
        units = int(values.get("units", hidden[0] if hidden else 32))
        merged["hidden_units"] = [units] * int(values.get("layers", len(hidden) or 1))
    return merged
