"""SliceEval executor: evaluate the eval split per slice, judge, write the blessing and report.

Thin by design: unpack artifacts, compute the metrics of the candidate (and the
baseline, in the same pass) with the configured engine — `fast`
(`fast_engine.py`, in process) or `beam` (TFMA's `ExtractEvaluateAndWriteResults`,
on the pipeline's Beam runner) — both writing TFMA's format at the artifact's root.
The fast engine holds the whole eval split in memory, so a split above
`runner.max_in_memory_bytes` goes to the beam engine instead (`engine_for`); the
evaluation artifact records which engine ran (`ENGINE_PROPERTY`). Then read the
metrics back with the one reader (`tfma_config.load_slices`), hand them to the
pure `gates.judge` and `report` modules, and write a TFMA ValidationResult that
agrees with the blessing.
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional

import apache_beam as beam
import tensorflow_model_analysis as tfma
from absl import logging
from tfx import types
from tfx.components.evaluator import constants
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils, path_utils
from tfx_bsl.public.tfxio import TFExampleRecord

from tfxgate.artifacts import evaluation as evaluation_files
from tfxgate.artifacts.examples import SplitTooLarge, check_fits
from tfxgate.components.slice_eval import gates, tfma_output
from tfxgate.components.slice_eval.label_kinds import LabelKind
from tfxgate.components.slice_eval.settings import Buckets, EvaluationStage
from tfxgate.components.slice_eval.slicing import add_bucket_columns
from tfxgate.components.slice_eval.tfma_config import BASELINE, CANDIDATE, eval_config, load_slices
from tfxgate.reporting import slice_html as report
from tfxgate.storage import strict_json

# Why a metric in report.json can be null (TFMA's NaN), e.g. AUC on a slice with one label class.
UNDEFINED_METRIC = "metric undefined on this slice (e.g. AUC where every example has the same label)"
# The evaluation artifact's custom property naming the engine that computed its metrics (`fast` or `beam`).
ENGINE_PROPERTY = "tfxgate_engine"


def engine_for(stage: EvaluationStage, examples_uri: str, split: str, max_in_memory_bytes: Optional[int]) -> str:
    """The engine that evaluates `split`: the configured one, except that the fast engine (which loads the
    whole split) hands a split above `max_in_memory_bytes` (None: the default bound) to the beam engine."""
    if stage.engine == "fast":
        try:
            check_fits(
                examples_uri, split, limit=max_in_memory_bytes, stage="SliceEval", beyond="TFMA on Beam evaluates it"
            )
        except SplitTooLarge as err:
            logging.info("%s", err)
            return "beam"
    return stage.engine


class Executor(base_beam_executor.BaseBeamExecutor):
    """Evaluates the candidate per slice and blesses it only if every gate passes."""

    def Do(self, input_dict: dict[str, list[types.Artifact]], output_dict, exec_properties: dict[str, Any]) -> None:
        stage = EvaluationStage.model_validate_json(exec_properties["settings"])
        examples = artifact_utils.get_single_instance(input_dict["examples"])
        model = artifact_utils.get_single_instance(input_dict["model"])
        baseline = (input_dict.get("baseline_model") or [None])[0]
        blessing = artifact_utils.get_single_instance(output_dict["blessing"])
        evaluation = artifact_utils.get_single_instance(output_dict["evaluation"])

        split_uri = artifact_utils.get_split_uri([examples], exec_properties["example_split"])
        kind = LabelKind(exec_properties.get("label_kind") or "binary", exec_properties.get("num_classes") or 2)
        config = eval_config(stage, label=exec_properties["label"], with_baseline=baseline is not None, kind=kind)
        models = {CANDIDATE: path_utils.serving_model_path(model.uri)}
        if baseline is not None:
            models[BASELINE] = path_utils.serving_model_path(baseline.uri)
        engine = engine_for(
            stage, examples.uri, exec_properties["example_split"], exec_properties.get("max_in_memory_bytes")
        )
        evaluation.set_string_custom_property(ENGINE_PROPERTY, engine)
        if engine == "fast":
            from tfxgate.components.slice_eval import fast_engine  # TF's SavedModel loading, only where used

            label = exec_properties["label"]
            metrics = fast_engine.evaluate(
                examples.uri, exec_properties["example_split"], models=models, stage=stage, label=label, kind=kind
            )
            tfma_output.write_metrics(
                evaluation.uri, metrics, eval_config=config, data_location=split_uri, model_locations=models
            )
        else:
            self._run_tfma(split_uri, models, config, stage, evaluation.uri)
        slices = load_slices(evaluation.uri, with_baseline=baseline is not None, kind=kind)
        verdict = gates.judge(slices, stage)
        rows = gates.rows(slices, verdict, stage, kind)
        baseline_uri = baseline.uri if baseline is not None else None
        data = gates.report_data(rows, verdict, metrics=stage.computed_metrics(kind), baseline_uri=baseline_uri)
        fallback = {"binary": "binary_accuracy", "multiclass": "accuracy", "regression": "mean_absolute_error"}
        chart_metric = next(iter([*stage.thresholds, *stage.overall]), fallback[kind.kind])
        gate = stage.thresholds.get(chart_metric) or stage.overall.get(chart_metric)
        io_utils.write_string_file(
            os.path.join(evaluation.uri, evaluation_files.EVALUATION_JSON),
            strict_json.dumps(data, reason=UNDEFINED_METRIC, indent=2),
        )
        page = report.report_html(
            data, title=f"Slice evaluation of {model.uri}", chart_metric=chart_metric, minimum=gate and gate.min
        )
        io_utils.write_string_file(os.path.join(evaluation.uri, evaluation_files.EVALUATION_HTML), page)
        logging.info("SliceEval (%s engine): %s", engine, verdict.headline())
        tfma_output.write_validation(evaluation.uri, verdict, slices)
        _write_blessing(blessing, verdict, model=model, baseline=baseline)

    def _run_tfma(self, split_uri: str, models: dict[str, str], config, stage: EvaluationStage, output_path: str):
        """The `beam` engine: TFMA on Beam over the split, writing its output at `output_path`."""
        shared = [
            tfma.default_eval_shared_model(eval_saved_model_path=path, eval_config=config, model_name=name)
            for name, path in models.items()
        ]
        buckets = [s for s in stage.slices if isinstance(s, Buckets)]
        with self._make_beam_pipeline() as pipeline:
            _ = (
                pipeline
                | "Read"
                >> TFExampleRecord(
                    io_utils.all_files_pattern(split_uri), raw_record_column_name=tfma.ARROW_INPUT_COLUMN
                ).BeamSource()
                | "AddBucketColumns" >> beam.Map(add_bucket_columns, buckets)
                | "Evaluate"
                >> tfma.ExtractEvaluateAndWriteResults(
                    eval_shared_model=shared if len(shared) > 1 else shared[0],
                    eval_config=config,
                    output_path=output_path,
                )
            )


def _write_blessing(blessing: types.Artifact, verdict: gates.Verdict, *, model, baseline) -> None:
    """The stock ModelBlessing contract the Pusher reads: `blessed` and a BLESSED/NOT_BLESSED file."""
    blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY, model.uri)
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
    if baseline is not None:
        blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY, baseline.uri)
        blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY, baseline.id)
    blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_BLESSING_MESSAGE_KEY, verdict.headline())
    blessing.set_string_custom_property("failing_slices", json.dumps(verdict.failing_slices))
    if verdict.blessed:
        io_utils.write_string_file(os.path.join(blessing.uri, constants.BLESSED_FILE_NAME), "")
        blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY, constants.BLESSED_VALUE)
    else:
        io_utils.write_string_file(os.path.join(blessing.uri, constants.NOT_BLESSED_FILE_NAME), "")
        blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY, constants.NOT_BLESSED_VALUE)
