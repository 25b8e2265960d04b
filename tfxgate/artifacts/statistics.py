"""Reader of TFDV statistics artifacts (StatisticsGen, Validate): `Split-*/FeatureStats.pb`.

Only tensorflow_metadata's protos are imported (no TFDV), so the report and
the lineage read statistics without the slow TFDV import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tensorflow_metadata.proto.v0 import statistics_pb2


@dataclass
class Statistics:
    artifact_id: int
    uri: str
    splits: dict[str, dict]  # split -> {examples, features}


def split_statistics(uri: str) -> dict[str, dict]:
    """Split -> {examples, features} from TFDV's per-split statistics; {} when the files are gone."""
    found: dict[str, dict] = {}
    for path in sorted(Path(uri).glob("Split-*/FeatureStats.pb")):
        stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(path.read_bytes())
        for dataset in stats.datasets[:1]:
            found[path.parent.name[len("Split-") :]] = {
                "examples": int(dataset.num_examples),
                "features": len(dataset.features),
            }
    return found


def read(artifact) -> Statistics:
    """An ExampleStatistics artifact with its per-split counts."""
    return Statistics(artifact_id=artifact.id, uri=artifact.uri, splits=split_statistics(artifact.uri))
