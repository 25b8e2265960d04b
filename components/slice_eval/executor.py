"""SliceEval executor: run TFMA on the eval split, judge per slice, write the blessing and report.

Thin by design: unpack artifacts, run TFMA's Beam API (`ExtractEvaluateAndWriteResults`)
on the candidate (and the baseline, in the same pass), then hand the loaded
metrics to the pure `gates.judge` and `report` modules.
"""

from __future__ import annotations

import json
import os
from typing import Any

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
from tfxgate.components.slice_eval import gates
from tfxgate.components.slice_eval.settings import Buckets, EvaluationStage
from tfxgate.components.slice_eval.tfma_config import (
    BASELINE,
    CANDIDATE,
    add_bucket_columns,
    eval_config,
    load_slices,
)
from tfxgate.reporting import slice_html as report
from tfxgate.storage import strict_json

TFMA_DIR = "tfma"


# Why a metric in report.json can be null (TFMA's NaN), e.g. AUC on a slice with one label class.
UNDEFINED_METRIC = "metric undefined on this slice (e.g. AUC where every example has the same label)"


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
        config = eval_config(stage, label=exec_properties["label"], with_baseline=baseline is not None)
        shared = [self._shared_model(model, config, CANDIDATE)]
        if baseline is not None:
            shared.append(self._shared_model(baseline, config, BASELINE))
        output_path = os.path.join(evaluation.uri, TFMA_DIR)
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

        slices = load_slices(output_path, with_baseline=baseline is not None)
        verdict = gates.judge(slices, stage)
        rows = gates.rows(slices, verdict, stage)
        baseline_uri = baseline.uri if baseline is not None else None
        data = gates.report_data(rows, verdict, metrics=stage.computed_metrics, baseline_uri=baseline_uri)
        chart_metric = next(iter([*stage.thresholds, *stage.overall]), "binary_accuracy")
        gate = stage.thresholds.get(chart_metric) or stage.overall.get(chart_metric)
        io_utils.write_string_file(
            os.path.join(evaluation.uri, evaluation_files.EVALUATION_JSON),
            strict_json.dumps(data, reason=UNDEFINED_METRIC, indent=2),
        )
        page = report.report_html(
            data, title=f"Slice evaluation of {model.uri}", chart_metric=chart_metric, minimum=gate and gate.min
        )
        io_utils.write_string_file(os.path.join(evaluation.uri, evaluation_files.EVALUATION_HTML), page)
        logging.info("SliceEval: %s", verdict.headline())
        _write_blessing(blessing, verdict, model=model, baseline=baseline)

    def _shared_model(self, model: types.Artifact, config, name: str):
        return tfma.default_eval_shared_model(
            eval_saved_model_path=path_utils.serving_model_path(model.uri),
            eval_config=config,
            model_name=name,
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
