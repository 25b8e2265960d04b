"""What the Validate component does when it runs (thin: read, compute, check, write, decide).

The pure work lives beside it: statistics.py (TFDV-format statistics with
Arrow), anomalies.py (policy per anomaly kind); TFDV's own `validate_statistics`
finds the anomalies, as in ExampleValidator. Files follow the stock layouts so
every TFX/TFDV reader works on them: `Split-<name>/FeatureStats.pb` (a binary
`DatasetFeatureStatisticsList`, as StatisticsGen writes) and
`Split-<name>/SchemaDiff.pb` (a binary `Anomalies`, as ExampleValidator writes).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Optional

from tfxgate import beam_options
from tfxgate.artifacts.anomalies import KEPT_SUMMARY
from tfxgate.artifacts.examples import SplitTooLarge, check_fits, split_batches
from tfxgate.artifacts.kept import kept_dir
from tfxgate.components.validate.anomalies import Finding, classify, enforce
from tfxgate.components.validate.statistics import statistics_from_batches
from tfxgate.storage import filesystem

STATISTICS_FILE = "FeatureStats.pb"  # tfx.components.statistics_gen.stats_artifact_utils.BINARY_PB_BASENAME
ANOMALIES_FILE = "SchemaDiff.pb"  # tfx.components.example_validator.executor.DEFAULT_FILE_NAME


@dataclass
class Settings:
    """The component's parameters, as the builder serialises them (`config_json`)."""

    environment: Optional[str] = None
    default: str = "fail"
    anomalies: dict = field(default_factory=dict)
    features: dict = field(default_factory=dict)
    max_in_memory_bytes: Optional[int] = None  # `runner.max_in_memory_bytes`; None: the default bound
    # `runner.beam`'s flags when the runner is not the DirectRunner: a split over the bound is handed to TFDV on
    # that runner (a portable job service, Flink, Spark, Dataflow), not to a DirectRunner in this process.
    beam_args: Optional[list[str]] = None

    @classmethod
    def from_json(cls, text: str) -> Settings:
        return cls(**json.loads(text))


def _write(path: str, proto) -> None:
    """Writes a proto's bytes to `path`, local or on an object store (the artifact root may be `gs://`)."""
    filesystem.write_bytes(path, proto.SerializeToString())


def compute_statistics(
    examples_uri: str,
    splits: list[str],
    *,
    statistics_uri: str,
    max_in_memory_bytes: Optional[int] = None,
    beam_args: Optional[list[str]] = None,
) -> dict:
    """Statistics of every split, written in StatisticsGen's layout; split -> proto.

    A split that fits `max_in_memory_bytes` (`runner.max_in_memory_bytes`) is
    summarised with Arrow, one record batch at a time (memory flat in the rows);
    a bigger one is handed over to TFDV's Beam statistics (as StatisticsGen
    computes them), which stream the TFRecords, on the runner `beam_args` name
    (None: the DirectRunner in this process).
    """
    found = {}
    for split in splits:
        try:
            check_fits(
                examples_uri, split, limit=max_in_memory_bytes, stage="Validate", beyond="TFDV on Beam computes them"
            )
        except SplitTooLarge as err:
            logging.info("%s", err)
            found[split] = statistics_on_beam(examples_uri, split, pipeline_args=beam_args)
        else:
            found[split] = statistics_from_batches(split_batches(examples_uri, split), name=split)
        _write(os.path.join(statistics_uri, f"Split-{split}", STATISTICS_FILE), found[split])
    return found


def statistics_on_beam(examples_uri: str, split: str, *, pipeline_args: Optional[list[str]] = None):
    """TFDV's statistics of one split's TFRecords, on Beam: memory bounded by Beam's bundles.

    `pipeline_args`: Beam flags (`runner.beam`'s, e.g. a portable job service); None: the DirectRunner.
    As for TFX's own Beam components (StatisticsGen), TFX's package is added for
    the workers unless the flags already name their dependencies.
    """
    import tensorflow_data_validation as tfdv

    pattern = os.path.join(examples_uri, f"Split-{split}", "*")
    options = beam_options.for_workers(pipeline_args) if pipeline_args else None
    stats = tfdv.generate_statistics_from_tfrecord(data_location=pattern, pipeline_options=options)
    for dataset in stats.datasets:
        dataset.name = split
    return stats


def infer_schema(statistics: dict):
    """The schema SchemaGen infers from these statistics (`infer_feature_shape=False`, every split)."""
    import tensorflow_data_validation as tfdv

    schema = None
    for stats in statistics.values():  # as SchemaGen's executor: infer from the first, update with the rest
        if schema is None:
            schema = tfdv.infer_schema(stats, infer_feature_shape=False)
        else:
            schema = tfdv.update_schema(schema, stats, infer_feature_shape=False)
    return schema


def check_anomalies(statistics: dict, schema, *, settings: Settings, anomalies_uri: str) -> list[Finding]:
    """TFDV's anomalies per split, written in ExampleValidator's layout, with the policy's action each."""
    import tensorflow_data_validation as tfdv

    findings: list[Finding] = []
    for split, stats in statistics.items():
        anomalies = tfdv.validate_statistics(stats, schema, environment=settings.environment)
        _write(os.path.join(anomalies_uri, f"Split-{split}", ANOMALIES_FILE), anomalies)
        findings += classify(
            anomalies, policy=settings.anomalies, default=settings.default, features=settings.features, split=split
        )
    return findings


def summary(findings: list[Finding]) -> str:
    """The `anomaly_summary` custom property: every anomaly, with its policy (`ignore` ones included, so a
    reader lists them as ignored rather than losing them)."""
    return json.dumps([f.to_dict() for f in findings], sort_keys=True)


def apply_policy(findings: list[Finding], *, anomalies_uri: str) -> None:
    """Raises AnomaliesFailed when a `fail` anomaly fired; logs the warnings.

    Before raising, the summary is copied out of the (about to be discarded) output
    artifact to `kept_dir`, where the run summary and report read why the run stopped.
    """
    if any(f.action == "fail" for f in findings):
        filesystem.write_text(os.path.join(kept_dir(anomalies_uri), KEPT_SUMMARY), summary(findings))
    for finding in enforce(findings):
        logging.warning("validation (policy warn): %s [%s]", finding.describe(), finding.split)
