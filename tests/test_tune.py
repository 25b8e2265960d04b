"""`stages.tune`: the config validates the search on load, and the rerun rule decides when to tune again.

Pure checks (no TFX import, no run): the search space's two forms and their
errors (named with their key paths), the trainer module must define `tuner_fn`,
the node ids a tuned and a reusing build have, the rule (`pipelines.tuning.due`)
for every `rerun` form, and the space as KerasTuner gets it. The runs themselves:
tests/test_e2e_tune.py.
"""

from __future__ import annotations

import pytest

from tests.test_config import MINIMAL, problems, write_config
from tfxgate.pipelines.config.root import load_config
from tfxgate.pipelines.config.tune import EveryNSpans
from tfxgate.pipelines.stage_ids import BEST_HYPERPARAMETERS, container_stages, stage_ids
from tfxgate.pipelines.tuning import LastTuning, due

TUNE = """\
  tune:
    enabled: true
    search_space:
      learning_rate: {min: 0.001, max: 0.1, sampling: log}
      units: {min: 8, max: 32, step: 8}
      batch_size: {choices: [32, 64]}
    max_trials: 2
    train_steps: 5
    eval_steps: 2
    rerun: {every_n_spans: 3}
"""
TUNER_FN = "def run_fn(fn_args):\n    pass\n\n\ndef tuner_fn(fn_args):\n    pass\n"


def tuned_config(tmp_path, tune: str = TUNE, *, module: str = TUNER_FN):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = write_config(tmp_path, MINIMAL.replace("  push:\n", tune + "  push:\n"))
    (tmp_path / "trainer" / "trainer.py").write_text(module)
    return path


def test_the_search_loads_and_reaches_the_tuner_as_plain_json(tmp_path):
    config = load_config(tuned_config(tmp_path))
    tune = config.stages.tune
    assert tune.rerun == EveryNSpans(every_n_spans=3)
    assert tune.custom_config() == {
        "algorithm": "random",
        "search_space": {
            "batch_size": {"choices": [32, 64], "sampling": "linear"},
            "learning_rate": {"min": 0.001, "max": 0.1, "sampling": "log"},
            "units": {"min": 8, "max": 32, "step": 8, "sampling": "linear"},
        },
        "objective": {"metric": "val_loss", "direction": "min"},
        "max_trials": 2,
        "seed": 42,
    }
    assert stage_ids(config) == ["Ingest", "Validate", "SchemaGen", "Tuner", "Trainer"] + stage_ids(config)[5:]
    assert stage_ids(config, tuned=False)[3] == BEST_HYPERPARAMETERS
    assert "Tuner" in container_stages(config) and BEST_HYPERPARAMETERS not in container_stages(config, every=True)


@pytest.mark.parametrize(
    "space, key, message",
    [
        ("units: {min: 32, max: 8}", "units", "min (32) must be below max (8)"),
        ("units: {min: 8}", "units", "give choices: [...], or both min and max"),
        ("units: {choices: [8], min: 1, max: 2}", "units", "give either choices or min/max, not both"),
        ("lr: {min: 0, max: 1, sampling: log}", "lr", "log sampling needs min > 0"),
        ("units: {choices: [8, 8]}", "units", "choices repeat a value"),
        ("units: {values: [8]}", "units.values", "unknown key"),
    ],
)
def test_a_bad_search_parameter_is_named_by_its_key(tmp_path, space, key, message):
    tune = f"  tune:\n    enabled: true\n    search_space:\n      {space}\n"
    found = problems(tuned_config(tmp_path, tune))
    assert [k for k, _, m in found if message in m] == [f"stages.tune.search_space.{key}"], found


def test_enabled_without_a_search_space_or_tuner_fn_is_refused(tmp_path):
    found = problems(tuned_config(tmp_path, "  tune:\n    enabled: true\n"))
    assert found[0][0] == "stages.tune" and "search_space: name at least one hyperparameter" in found[0][2]
    found = problems(tuned_config(tmp_path / "b", TUNE, module="def run_fn(fn_args):\n    pass\n"))
    assert found[0][0] == "stages.tune.enabled"
    assert "defines no top-level tuner_fn (TFX's Tuner calls tuner_fn(fn_args))" in found[0][2]


def test_bad_rerun_rules_are_refused(tmp_path):
    found = problems(tuned_config(tmp_path, TUNE.replace("{every_n_spans: 3}", "{every_n_spans: 0}")))
    assert any(k.startswith("stages.tune.rerun") and "greater than or equal to 1" in m for k, _, m in found), found
    found = problems(tuned_config(tmp_path / "b", TUNE.replace("{every_n_spans: 3}", "weekly")))
    assert any(k.startswith("stages.tune.rerun") and "'every_run' or 'data_changed'" in m for k, _, m in found)


CONFIG = {"tune": {"max_trials": 2}}
LAST = LastTuning(
    artifact_id=7, uri="/a/7", execution_id=3, custom_config=CONFIG, span=4, fingerprint="split:x,bytes:10"
)


def test_data_changed_reuses_only_while_the_fingerprint_and_the_search_are_the_same():
    same = due("data_changed", last=LAST, custom_config=CONFIG, span=4, fingerprint="split:x,bytes:10")
    assert (same.tune, same.reuse) == (False, LAST)
    assert due("data_changed", last=LAST, custom_config=CONFIG, span=4, fingerprint="split:x,bytes:11").tune
    assert due("data_changed", last=None, custom_config=CONFIG, span=4, fingerprint="f").tune
    changed = due("data_changed", last=LAST, custom_config={"tune": {"max_trials": 3}}, span=4, fingerprint=None)
    assert changed.tune and "changed since the last tuning" in changed.reason


def test_every_n_spans_counts_from_the_tuned_span_and_every_run_always_tunes():
    rule = EveryNSpans(every_n_spans=3)
    assert [due(rule, last=LAST, custom_config=CONFIG, span=s, fingerprint="new").tune for s in (4, 6, 7, 9)] == [
        False,
        False,
        True,
        True,
    ]
    assert due("every_run", last=LAST, custom_config=CONFIG, span=4, fingerprint=LAST.fingerprint).tune


def test_the_search_space_becomes_keras_tuner_hyperparameters():
    from tfxgate.tuning import keras_search

    hp = keras_search.search_space(
        {
            "units": {"min": 8, "max": 32, "step": 8, "sampling": "linear"},
            "learning_rate": {"min": 0.001, "max": 0.1, "sampling": "log"},
            "batch_size": {"choices": [32, 64]},
        }
    )
    kinds = {p.name: type(p).__name__ for p in hp.space}
    assert kinds == {"units": "Int", "learning_rate": "Float", "batch_size": "Choice"}
    assert hp.Int("units", 8, 32) in (8, 16, 24, 32)
    with pytest.raises(ValueError, match=r"stages.tune.search_space.mode.choices mix types"):
        keras_search.search_space({"mode": {"choices": [1, "a"]}})
    assert keras_search.best_values(None) == {}
    assert keras_search.best_values({"space": [], "values": {"units": 16}}) == {"units": 16}
