"""The Validate TFX component: statistics + anomalies in one node (replaces StatisticsGen + ExampleValidator).

    examples ─┐
    schema ───┴─> Validate ─> statistics (ExampleStatistics), anomalies (ExampleAnomalies)

`statistics` is in StatisticsGen's layout and `anomalies` in ExampleValidator's,
so SchemaGen, TFDV's tools and the stock components read them unchanged. The
anomalies artifact carries `blessed` (1/0: 0 iff an anomaly with policy `fail`
fired) and `anomaly_summary` (JSON list of {feature, kind, policy, description,
split}); a `fail` anomaly stops the run here, before training.

Without a curated schema (no `schema` input) the schema is inferred from the
train split, as SchemaGen would, and the data is checked against it.
"""

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts


@component
def Validate(
    examples: InputArtifact[standard_artifacts.Examples],
    statistics: OutputArtifact[standard_artifacts.ExampleStatistics],
    anomalies: OutputArtifact[standard_artifacts.ExampleAnomalies],
    config_json: Parameter[str],
    schema: InputArtifact[standard_artifacts.Schema] = None,
) -> None:
    """TFDV-format statistics with Arrow, TFDV's anomalies against the schema, gated by policy."""
    from tfx.types import artifact_utils
    from tfx.utils import io_utils

    from tfxgate.artifacts.schema import read_schema
    from tfxgate.components.validate import executor

    settings = executor.Settings.from_json(config_json)
    splits = artifact_utils.decode_split_names(examples.split_names)
    statistics.split_names = anomalies.split_names = artifact_utils.encode_split_names(splits)
    stats = executor.compute_statistics(
        examples.uri,
        splits,
        statistics_uri=statistics.uri,
        max_in_memory_bytes=settings.max_in_memory_bytes,
        beam_args=settings.beam_args,
    )
    if schema is not None:
        schema_proto = read_schema(io_utils.get_only_uri_in_dir(schema.uri))
    else:  # an inferred schema declares no environments: check every feature
        schema_proto = executor.infer_schema(stats)
        settings.environment = None
    findings = executor.check_anomalies(stats, schema_proto, settings=settings, anomalies_uri=anomalies.uri)
    anomalies.set_int_custom_property("blessed", int(not any(f.action == "fail" for f in findings)))
    anomalies.set_string_custom_property("anomaly_summary", executor.summary(findings))
    executor.apply_policy(findings, anomalies_uri=anomalies.uri)
