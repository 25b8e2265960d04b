"""Reader of stock TFX Transform's outputs: the TransformGraph and its pre-/post-transform statistics.

`transform_graph/transformed_metadata/schema.pbtxt` names the transformed
features (and which are categorical ids); `pre_transform_stats` and
`post_transform_stats` hold one TFDV `FeatureStats.pb` each (no split folders:
Transform computes them on its analyze splits). Only tensorflow_metadata's
protos are read: the lineage, the report and the model card show them without
importing TF Transform.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from tfxgate.storage import filesystem

TRANSFORMED_SCHEMA = os.path.join("transformed_metadata", "schema.pbtxt")
STATISTICS_FILE = "FeatureStats.pb"


@dataclass
class FeatureSummary:
    feature: str
    kind: str  # numeric | categorical
    mean: Optional[float] = None
    std: Optional[float] = None
    unique: Optional[int] = None
    missing: Optional[float] = None  # fraction of examples without a value


@dataclass
class TransformStatistics:
    artifact_id: int
    uri: str
    examples: Optional[int]  # None: the file is gone
    features: list[FeatureSummary] = field(default_factory=list)


@dataclass
class Transform:
    """The transform graph behind a model: what it produces, from which module, and the statistics on both sides."""

    graph_id: int
    graph_uri: str
    execution_id: Optional[int] = None
    module_file: Optional[str] = None
    transformed_features: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)  # transformed integer ids (vocabulary, buckets)
    pre_transform: Optional[TransformStatistics] = None
    post_transform: Optional[TransformStatistics] = None


def transformed_schema(graph_uri: str) -> Optional[schema_pb2.Schema]:
    """The transformed features' schema Transform wrote, or None when the file is gone."""
    path = os.path.join(graph_uri, TRANSFORMED_SCHEMA)
    if not filesystem.isfile(path):
        return None
    return text_format.Parse(filesystem.read_text(path), schema_pb2.Schema())


def read_graph(artifact, *, execution_id: Optional[int] = None, module_file: Optional[str] = None) -> Transform:
    """A TransformGraph artifact with its transformed features."""
    schema = transformed_schema(artifact.uri)
    features = sorted(f.name for f in schema.feature) if schema is not None else []
    categorical = sorted(f.name for f in schema.feature if f.int_domain.is_categorical) if schema is not None else []
    return Transform(
        graph_id=artifact.id,
        graph_uri=artifact.uri,
        execution_id=execution_id,
        module_file=module_file,
        transformed_features=features,
        categorical=categorical,
    )


def read_statistics(artifact) -> TransformStatistics:
    """Transform's pre- or post-transform ExampleStatistics: the example count and one summary per feature."""
    path = os.path.join(artifact.uri, STATISTICS_FILE)
    if not filesystem.isfile(path):
        return TransformStatistics(artifact_id=artifact.id, uri=artifact.uri, examples=None)
    stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(filesystem.read_bytes(path))
    if not stats.datasets:
        return TransformStatistics(artifact_id=artifact.id, uri=artifact.uri, examples=0)
    dataset = stats.datasets[0]
    return TransformStatistics(
        artifact_id=artifact.id,
        uri=artifact.uri,
        examples=int(dataset.num_examples),
        features=sorted((_summary(f, dataset.num_examples) for f in dataset.features), key=lambda s: s.feature),
    )


def _summary(feature: statistics_pb2.FeatureNameStatistics, examples: int) -> FeatureSummary:
    name = feature.path.step[-1] if feature.path.step else feature.name
    if feature.HasField("string_stats"):
        common, kind = feature.string_stats.common_stats, "categorical"
        summary = FeatureSummary(name, kind, unique=int(feature.string_stats.unique))
    else:
        numbers = feature.num_stats
        common = numbers.common_stats
        summary = FeatureSummary(name, "numeric", mean=float(numbers.mean), std=float(numbers.std_dev))
    if examples:
        summary.missing = float(common.num_missing) / float(examples)
    return summary
