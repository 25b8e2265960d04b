"""SliceEval's two engines on the taxi model: the same metrics, TFMA's format, one blessing.

Reuses the session's taxi run (tests/conftest.py), whose SliceEval ran the
default `fast` engine; here the `beam` engine (TFMA on Beam) evaluates the same
model on the same eval split with the same config, and every metric x slice must
agree within 1e-6 (AUC included: see tests/test_slice_eval_parity.py). Both
outputs are TFMA's on-disk format at the artifact's root, so
`tfma.load_eval_result` and `tfma.load_validation_result` read them, and the
validation result agrees with the blessing. No training here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import pytest

from tests.conftest import TAXI_CONFIG, small_run_overrides

pytestmark = pytest.mark.e2e


def _single(folder: Path) -> Path:
    [found] = sorted(folder.iterdir())
    return found


def beam_engine(
    root: Path,
    sample_csv: Path,
    work: Path,
    beam_args: Optional[list[str]] = None,
    *,
    engine: str = "beam",
    max_in_memory_bytes: Optional[int] = None,
):
    """SliceEval with `engine` (default `beam`) on the session run's model and eval split (`root`: its pipeline root).

    Returns the config, the evaluation and blessing folders, and the engine that
    ran (the evaluation's `ENGINE_PROPERTY`). `beam_args`: the Beam pipeline
    arguments (default: the config's, DirectRunner in process);
    `max_in_memory_bytes`: the runner's bound on the fast engine.
    """
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
    from tfx.types import artifact_utils, standard_artifacts

    from tfxgate.components.slice_eval import executor
    from tfxgate.pipelines.config.root import load_config

    config = load_config(TAXI_CONFIG, overrides=small_run_overrides(sample_csv, root))
    examples, model = standard_artifacts.Examples(), standard_artifacts.Model()
    examples.uri = str(_single(root / "artifacts/Ingest/examples"))
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    model.uri = str(_single(root / "artifacts/Trainer/model"))
    evaluation, blessing = standard_artifacts.ModelEvaluation(), standard_artifacts.ModelBlessing()
    evaluation.uri, blessing.uri = str(work / "evaluation"), str(work / "blessing")
    stage = config.stages.evaluation.model_copy(update={"engine": engine})
    args = config.runner.beam.pipeline_args() if beam_args is None else beam_args
    context = BaseBeamExecutor.Context(beam_pipeline_args=args, tmp_dir=str(work))
    executor.Executor(context).Do(
        {"examples": [examples], "model": [model]},
        {"evaluation": [evaluation], "blessing": [blessing]},
        {
            "settings": stage.model_dump_json(),
            "label": config.data.label,
            "example_split": "eval",
            **({} if max_in_memory_bytes is None else {"max_in_memory_bytes": max_in_memory_bytes}),
        },
    )
    ran = evaluation.get_string_custom_property(executor.ENGINE_PROPERTY)
    return config, Path(evaluation.uri), Path(blessing.uri), ran


def metric_differences(a: Path, b: Path) -> list[str]:
    """Every metric x slice on which two evaluations (TFMA's format) differ by more than 1e-6 (relative above 1)."""
    from tfxgate.components.slice_eval.tfma_config import load_slices

    first, second = ({s.name: s.values for s in load_slices(str(e), with_baseline=False)} for e in (a, b))
    assert set(first) == set(second) and len(first) > 10
    assert all(set(first[n]) == set(second[n]) for n in first)
    return [
        f"{name}: {metric} {value!r} vs {second[name][metric]!r}"
        for name, values in first.items()
        for metric, value in values.items()
        if not (math.isnan(value) and math.isnan(second[name][metric]))
        and abs(value - second[name][metric]) > 1e-6 * max(1.0, abs(value))
    ]


@pytest.fixture(scope="module")
def engines(taxi_runs, sample_csv, tmp_path_factory) -> dict:
    """The fast engine's evaluation (from the pipeline run) and the beam engine's on the same inputs.

    The beam engine's run is the handover: the fast engine is configured, but the eval split is above
    `max_in_memory_bytes` (1 byte), so SliceEval evaluates it with TFMA on Beam instead of loading it.
    """
    root = taxi_runs.root
    work = tmp_path_factory.mktemp("beam-engine")
    config, evaluation, blessing, ran = beam_engine(root, sample_csv, work, engine="fast", max_in_memory_bytes=1)
    return {
        "handed_over_to": ran,
        "fast": (_single(root / "artifacts/SliceEval/evaluation"), _single(root / "artifacts/SliceEval/blessing")),
        "beam": (evaluation, blessing),
        "default_engine": config.stages.evaluation.engine,
    }


def test_both_engines_compute_the_same_metrics_on_every_slice(engines):
    from tfxgate.artifacts import evaluation

    assert engines["default_engine"] == "fast"
    assert engines["handed_over_to"] == "beam"
    assert metric_differences(engines["fast"][0], engines["beam"][0]) == []
    # The reader of tfxgate.artifacts sees the same report from either engine.
    reports = [evaluation.read(str(engines[e][0])) for e in ("fast", "beam")]
    assert [r["blessed"] for r in reports] == [True, True]
    assert [r["too_small_to_judge"] for r in reports][0] == reports[1]["too_small_to_judge"]
    assert [r["slice"] for r in reports[0]["slices"]] == [r["slice"] for r in reports[1]["slices"]]


@pytest.mark.parametrize("engine", ["fast", "beam"])
def test_tfma_reads_the_evaluation_at_its_root_and_agrees_with_the_blessing(engines, engine):
    import tensorflow_model_analysis as tfma

    from tfxgate.artifacts import evaluation as evaluation_files

    uri, blessing_uri = engines[engine]
    assert evaluation_files.tfma_dir(str(uri)) == str(uri)
    result = tfma.load_eval_result(str(uri))
    overall = dict(result.slicing_metrics)[()]
    auc = overall[""][""]["auc"]["doubleValue"]
    assert 0.8 < auc <= 1.0
    assert {(("payment_type", "Cash"),), (("trip_start_hour_bucket", "[0,6)"),)} <= set(dict(result.slicing_metrics))
    assert [spec.feature_keys for spec in result.config.slicing_specs][:2] == [[], ["payment_type"]]
    validation = tfma.load_validation_result(str(uri))
    assert validation.validation_ok is (blessing_uri / "BLESSED").exists() is True


def test_a_failed_gate_is_a_failed_tfma_validation_on_its_slice(engines, tmp_path):
    """Not blessed -> validation_ok false, with tfxgate's message on the failing slice."""
    import tensorflow_model_analysis as tfma

    from tfxgate.components.slice_eval import gates, tfma_output
    from tfxgate.components.slice_eval.settings import EvaluationStage
    from tfxgate.components.slice_eval.tfma_config import load_slices

    slices = load_slices(str(engines["fast"][0]), with_baseline=False)
    verdict = gates.judge(slices, EvaluationStage(min_examples=1, thresholds={"binary_accuracy": {"min": 0.99}}))
    tfma_output.write_validation(str(tmp_path), verdict, slices)
    validation = tfma.load_validation_result(str(tmp_path))
    assert validation.validation_ok is False
    failures = {
        tfma.slicer.slicer_lib.deserialize_slice_key(entry.slice_key): entry.failures[0].message
        for entry in validation.metric_validations_per_slice
    }
    assert failures[()].startswith("Overall: binary_accuracy ") and "< min 0.99" in failures[()]
    assert len(failures) == len(verdict.failing_slices)


def test_the_evaluation_is_a_standard_model_evaluation_a_stock_consumer_accepts(taxi_runs):
    from tfx.types import channel_utils, standard_artifacts
    from tfx.types.component_spec import ChannelParameter

    from tfxgate.mlmd.store import open_store
    from tfxgate.pipelines.config.root import load_config

    config = load_config(TAXI_CONFIG, overrides=[f"pipeline.root={taxi_runs.root}"])
    store = open_store(config.metadata, root=taxi_runs.root, read_only=True)
    [recorded] = store.get_artifacts_by_type("ModelEvaluation")
    # The eval split fits the default bound, so the configured fast engine ran, and the record says so.
    assert recorded.custom_properties["tfxgate_engine"].string_value == "fast"
    assert store.get_artifacts_by_type("tfxgate.SliceEvaluation") == []
    from tfxgate.components.slice_eval.component import SliceEval

    node = SliceEval(
        examples=channel_utils.as_channel([standard_artifacts.Examples()]),
        model=channel_utils.as_channel([standard_artifacts.Model()]),
        stage=config.stages.evaluation,
        label="big_tipper",
    )
    # What any component declaring a ModelEvaluation input checks (tfx/types/component_spec.py).
    ChannelParameter(type=standard_artifacts.ModelEvaluation).type_check("evaluation", node.outputs["evaluation"])
