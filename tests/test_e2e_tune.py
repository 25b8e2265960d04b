"""End to end: `stages.tune` searches, the Trainer trains with the best result, and an unchanged rerun reuses it.

One module-scoped pair of local runs on a seeded 300-row CSV (tests/tabular_csv.py)
with the generic tabular trainer and a tiny search (2 trials of 5 steps):

- run 1 tunes: one Tuner execution, its HyperParameters artifact is the Trainer's
  input, and the pushed model has the best `units` as the width of both hidden
  layers (the configured `hidden_units: [32, 16]` are gone);
- run 2, data and config unchanged, does not tune: no new Tuner execution in ML
  Metadata, the importer hands the Trainer the very artifact run 1's Tuner wrote;
- `tfxgate lineage`'s tree, the model card and the run report name the values
  and the Tuner run behind them;
- changed input data makes the next build tune again (decided, not run);
- the Kubeflow compile of the same config has a Tuner task with its own resources.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import tabular_csv
from tests.conftest import REPO
from tfxgate.pipelines.config.root import PipelineConfig, load_config

pytestmark = pytest.mark.e2e

UNITS = (4, 8)  # neither is a width of the configured hidden_units [32, 16]
CONFIG = """\
pipeline: {{name: penguins-tune, root: runs}}
data:
  path: penguins.csv
  label: species
  label_kind: multiclass
  num_classes: 3
stages:
  trainer:
    module_file: trainer/trainer.py
    train_steps: 20
    eval_steps: 2
    hyperparameters:
      label: species
      label_kind: multiclass
      classes: [adelie, chinstrap, gentoo]
      numeric: [bill_length, flipper, body_mass]
      categorical: [island]
      hidden_units: [32, 16]
      learning_rate: 0.01
      batch_size: 64
  tune:
    enabled: true
    search_space:
      learning_rate: {{choices: [0.003, 0.03]}}
      units: {{choices: {units}}}
    max_trials: 2
    train_steps: 5
    eval_steps: 2
    rerun: data_changed
  evaluation:
    slices: [[]]
    overall: {{accuracy: {{min: 0.0}}}}
  drift: {{enabled: false}}
  push:
    root: serving
    destinations: {{staging: {{path: staging, approval: auto}}}}
kubeflow:
  pipeline_root: gs://bucket/penguins-tune
  resources:
    default: {{cpu: 1, memory: 2Gi}}
    Tuner: {{cpu: 4, memory: 8Gi}}
"""


@dataclass
class TunedRuns:
    config: PipelineConfig
    first: object  # RunOutcome
    second: object


@pytest.fixture(scope="module")
def tuned(tmp_path_factory) -> TunedRuns:
    from tfxgate.pipelines.local import run_local

    work = tmp_path_factory.mktemp("tune")
    tabular_csv.penguins(work / "penguins.csv")
    (work / "trainer").mkdir()
    shutil.copy(REPO / "trainers" / "tabular" / "trainer.py", work / "trainer" / "trainer.py")
    (work / "pipeline.yaml").write_text(textwrap.dedent(CONFIG.format(units=list(UNITS))))
    config = load_config(work / "pipeline.yaml")
    first = run_local(config)
    assert first.failed_node is None, first
    second = run_local(config)
    assert second.failed_node is None, second
    return TunedRuns(config, first, second)


def _store(config):
    from tfxgate.mlmd.store import open_store

    return open_store(config.metadata, root=config.pipeline.root, read_only=True)


def _executions(store, type_suffix: str) -> list:
    types = {t.id: t.name for t in store.get_execution_types()}
    return [e for e in store.get_executions() if types[e.type_id].endswith(type_suffix)]


def _hyperparameters_input(store, trainer) -> int:
    from tfxgate.mlmd.graph import Graph

    [(key, artifact)] = Graph(store).inputs(trainer, type_name="HyperParameters")
    assert key == "hyperparameters"
    return artifact.id


def test_the_first_run_tunes_and_trains_with_the_best_values(tuned):
    import tensorflow as tf

    from tfxgate.mlmd.graph import Graph

    states = {n.node_id: n.state for n in tuned.first.nodes}
    assert states["Tuner"] == "complete"
    store = _store(tuned.config)
    [tuner] = _executions(store, ".Tuner")
    [best] = Graph(store).outputs([tuner], type_name="HyperParameters")
    [trainer] = [e for e in _executions(store, ".Trainer") if e.last_known_state == e.COMPLETE]
    assert _hyperparameters_input(store, trainer) == best.id
    values = __import__("json").loads((Path(best.uri) / "best_hyperparameters.txt").read_text())["values"]
    assert set(values) == {"learning_rate", "units"} and values["units"] in UNITS
    [model] = Graph(store).outputs([trainer], type_name="Model")
    loaded = tf.saved_model.load(str(Path(model.uri) / "Format-Serving"))
    shapes = sorted(tuple(v.shape) for v in loaded.variables if len(v.shape) == 2)
    units = values["units"]
    assert (units, units) in shapes and not any(32 in s for s in shapes), shapes  # layers x units, not [32, 16]


def test_an_unchanged_rerun_reuses_the_best_hyperparameters_without_tuning(tuned):
    states = {n.node_id: n.state for n in tuned.second.nodes}
    assert "Tuner" not in states and "best_hyperparameters_importer" in states
    store = _store(tuned.config)
    assert len(_executions(store, ".Tuner")) == 1  # no new Tuner execution
    from tfxgate.mlmd.graph import Graph

    [tuner] = _executions(store, ".Tuner")
    [best] = Graph(store).outputs([tuner], type_name="HyperParameters")
    run2 = {e.id for e in Graph(store).run_executions(tuned.second.run_id)}
    [trainer] = [e for e in _executions(store, ".Trainer") if e.id in run2]
    assert _hyperparameters_input(store, trainer) == best.id


def test_lineage_card_and_report_name_the_best_hyperparameters(tuned):
    import json

    from tfxgate.reporting import lineage_tree, run_facts, run_page

    store = _store(tuned.config)
    [tuner] = _executions(store, ".Tuner")
    evidence = lineage_tree.lineage(store, pipeline="penguins-tune", version="1", destination="staging")
    found = evidence.hyperparameters
    assert found.tuner_execution_id == tuner.id and not found.reused and len(found.trials) == 2
    values = ", ".join(f"{k}={v}" for k, v in sorted(found.values.items()))
    tree = lineage_tree.render(lineage_tree.tree(evidence, version="1"))
    assert f"hyperparameters {found.artifact_id}: {values} (found by Tuner execution {tuner.id} in run " in tree
    assert json.loads(evidence.to_json())["hyperparameters"]["values"] == found.values
    card = (tuned.config.stages.push.root / "staging" / "1" / "model_card.md").read_text()
    assert "## Hyperparameters" in card and f"| units | {found.values['units']} |" in card
    address = str(tuned.config.metadata_path)
    second = run_facts.collect(store, pipeline="penguins-tune", run_id=tuned.second.run_id, address=address)
    assert second.hyperparameters["artifact_id"] == found.artifact_id and not second.hyperparameters["tuned"]
    page = run_page.render(second)
    assert "reused from an earlier run" in page.split("<section id='hyperparameters'>")[1].split("</section>")[0]


def test_the_kubeflow_compile_has_a_tuner_task_with_its_resources(tuned, tmp_path):
    import yaml

    from tfxgate.pipelines.kubeflow.compile import compile_kubeflow

    compile_kubeflow(tuned.config, tmp_path / "pipeline.yaml")
    spec = next(yaml.safe_load_all((tmp_path / "pipeline.yaml").read_text()))
    tasks = spec["root"]["dag"]["tasks"]
    assert "Tuner" in tasks and "Tuner" in tasks["Trainer"]["dependentTasks"]
    container = spec["deploymentSpec"]["executors"]["Tuner_executor"]["container"]
    assert container["resources"]["cpuRequest"] == 4 and container["resources"]["resourceMemoryRequest"] == "8Gi"


def test_changed_data_makes_the_next_build_tune_again(tuned):
    """Last in the module: it changes the input file the runs above read."""
    from tfxgate.pipelines import stages, tuning

    config = tuned.config

    def decision():
        return tuning.decide(config, ingest_node=stages.ingest(config), custom_config=stages.tune_custom_config(config))

    assert decision().tune is False
    with open(config.data.path, "a") as data:
        data.write("41.0,190,3700,dream,adelie\n")
    again = decision()
    assert again.tune and "input data changed" in again.reason
