"""TFMA's on-disk format at the evaluation artifact's root, written with TFMA's own protos and converters.

Whatever the engine, the evaluation artifact's directory holds what
`tfma.ExtractEvaluateAndWriteResults` writes: `eval_config.json` (an `EvalRun`),
`metrics-00000-of-00001.tfrecord` (one `MetricsForSlice` per slice) and
`validations-00000-of-00001.tfrecord` (one `ValidationResult`). So
`tfma.load_eval_result(uri)` and `tfma.load_validation_result(uri)` work on it,
and the validation result says what SliceEval's blessing says (`validation_ok`
is the verdict; each failed gate is a `ValidationFailure` on its slice with
tfxgate's message). No plots: the configured metrics have none.
"""

from __future__ import annotations

import os

import tensorflow as tf
from google.protobuf import json_format
from tensorflow_model_analysis import version as tfma_version
from tensorflow_model_analysis.proto import config_pb2, metrics_for_slice_pb2, validation_result_pb2
from tensorflow_model_analysis.slicer import slicer_lib
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as tfma_writer

from tfxgate.components.slice_eval.gates import SliceMetrics, Verdict
from tfxgate.components.slice_eval.tfma_config import CANDIDATE

EVAL_CONFIG_FILE = "eval_config.json"  # tfma.writers.eval_config_writer: EVAL_CONFIG_FILE + ".json"
METRICS_FILE = "metrics-00000-of-00001.tfrecord"  # the `metrics*` shard TFMA's readers glob for
VALIDATIONS_PREFIX = "validations"  # tfma.constants.VALIDATIONS_KEY
VALIDATIONS_FILE = f"{VALIDATIONS_PREFIX}-00000-of-00001.tfrecord"


def write_metrics(
    uri: str,
    metrics_by_slice: dict,
    *,
    eval_config: config_pb2.EvalConfig,
    data_location: str,
    model_locations: dict[str, str],
) -> None:
    """`eval_config.json` and the metrics of every slice (slice key -> {MetricKey: value}) into `uri`."""
    tf.io.gfile.makedirs(uri)
    run = config_pb2.EvalRun(
        eval_config=eval_config,
        version=tfma_version.VERSION,
        data_location=data_location,
        file_format="tfrecords",
        model_locations=model_locations,
    )
    with tf.io.gfile.GFile(os.path.join(uri, EVAL_CONFIG_FILE), "w") as handle:
        handle.write(json_format.MessageToJson(run))
    with tf.io.TFRecordWriter(os.path.join(uri, METRICS_FILE)) as writer:
        for key, metrics in metrics_by_slice.items():
            writer.write(tfma_writer.convert_slice_metrics_to_proto((key, metrics), None).SerializeToString())


def write_validation(uri: str, verdict: Verdict, slices: list[SliceMetrics]) -> None:
    """A ValidationResult that agrees with the blessing, replacing any TFMA wrote into `uri`."""
    for stale in tf.io.gfile.glob(os.path.join(uri, VALIDATIONS_PREFIX + "*")):
        tf.io.gfile.remove(stale)
    result = validation_result_pb2.ValidationResult(validation_ok=verdict.blessed)
    keys = {item.name: item.key for item in slices}
    by_slice: dict[str, validation_result_pb2.MetricsValidationForSlice] = {}
    for failure in verdict.failures:
        entry = by_slice.get(failure.slice)
        if entry is None:
            entry = result.metric_validations_per_slice.add()
            entry.slice_key.CopyFrom(slicer_lib.serialize_slice_key(keys.get(failure.slice, ())))
            by_slice[failure.slice] = entry
        entry.failures.add(
            metric_key=metrics_for_slice_pb2.MetricKey(name=failure.metric, model_name=CANDIDATE),
            metric_value=metrics_for_slice_pb2.MetricValue(double_value={"value": failure.value}),
            message=failure.message,
        )
    with tf.io.TFRecordWriter(os.path.join(uri, VALIDATIONS_FILE)) as writer:
        writer.write(result.SerializeToString())
