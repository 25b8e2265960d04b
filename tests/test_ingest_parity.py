"""Parity: tfxgate's Ingest vs stock CsvExampleGen on the taxi sample, in one real pipeline.

What we can honestly assert (see components/ingest/README.md):
- split by key column: Ingest uses CsvExampleGen's exact partition hash, so every
  split has the same rows: equal counts and equal StatisticsGen statistics per split
  (same features, types, counts, value counts; numeric moments within float tolerance);
- split by row: the hash differs (CsvExampleGen hashes each serialized example), so
  totals are equal and each split's size agrees within binomial noise.
The rest of the pipeline on Ingest's output is the shared e2e run (test_e2e_taxi.py).
"""

from __future__ import annotations

import json
import math

import pytest

pytestmark = pytest.mark.e2e

KEY = "trip_start_timestamp"
SPLITS = {"train": 2, "eval": 1}


@pytest.fixture(scope="module")
def parity_root(sample_csv, tmp_path_factory):
    from tfx import v1 as tfx

    from tfxgate.components.ingest.component import Ingest

    root = tmp_path_factory.mktemp("parity")
    data_dir = sample_csv.parent

    def stock(key):
        split_config = tfx.proto.SplitConfig(
            splits=[tfx.proto.SplitConfig.Split(name=n, hash_buckets=b) for n, b in SPLITS.items()]
        )
        if key:
            split_config.partition_feature_name = key
        return tfx.components.CsvExampleGen(
            input_base=str(data_dir),
            input_config=tfx.proto.Input(splits=[tfx.proto.Input.Split(name="all", pattern=sample_csv.name)]),
            output_config=tfx.proto.Output(split_config=split_config),
        )

    def ours(key):
        return Ingest(input_base=str(data_dir), input_pattern=sample_csv.name, splits=SPLITS, key=key)

    nodes = {
        "stock_key": stock(KEY).with_id("stock_key"),
        "ours_key": ours(KEY).with_id("ours_key"),
        "stock_row": stock(None).with_id("stock_row"),
        "ours_row": ours(None).with_id("ours_row"),
    }
    stats = [
        tfx.components.StatisticsGen(examples=nodes[name].outputs["examples"]).with_id(f"stats_{name}")
        for name in ("stock_key", "ours_key")
    ]
    pipeline = tfx.dsl.Pipeline(
        pipeline_name="ingest-parity",
        pipeline_root=str(root / "artifacts"),
        components=[*nodes.values(), *stats],
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(root / "metadata.sqlite")
        ),
        beam_pipeline_args=["--direct_running_mode=in_memory", "--direct_num_workers=1"],
    )
    tfx.orchestration.LocalDagRunner().run(pipeline)
    return root


def _split_counts(root, node) -> dict[str, int]:
    import tensorflow as tf

    counts = {}
    for split in SPLITS:
        files = tf.io.gfile.glob(str(root / "artifacts" / node / "examples" / "*" / f"Split-{split}" / "*.gz"))
        counts[split] = sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP"))
    return counts


def _feature_stats(root, node, split) -> dict:
    """feature -> comparable facts from StatisticsGen's output for one split."""
    import tensorflow as tf
    import tensorflow_data_validation as tfdv

    [path] = tf.io.gfile.glob(
        str(root / "artifacts" / node / "statistics" / "*" / f"Split-{split}" / "FeatureStats.pb")
    )
    stats = tfdv.load_stats_binary(path).datasets[0]
    facts = {"num_examples": stats.num_examples}
    for feature in stats.features:
        kind = feature.WhichOneof("stats")
        stat = getattr(feature, kind)
        common = stat.common_stats
        fact = {
            "type": feature.type,
            "non_missing": common.num_non_missing,
            "missing": common.num_missing,
            "values": (common.min_num_values, common.max_num_values, common.tot_num_values),
        }
        if kind == "num_stats":
            fact.update(mean=stat.mean, std=stat.std_dev, min=stat.min, max=stat.max, zeros=stat.num_zeros)
        else:
            fact.update(unique=stat.unique, top=[(v.value, v.frequency) for v in stat.top_values[:10]])
        facts[feature.path.step[0]] = fact
    return facts


def test_key_split_gives_the_same_counts_per_split(parity_root):
    ours, stock = _split_counts(parity_root, "ours_key"), _split_counts(parity_root, "stock_key")
    assert ours == stock
    assert sum(ours.values()) == 3001


@pytest.mark.parametrize("split", list(SPLITS))
def test_key_split_gives_the_same_statistics(parity_root, split):
    ours = _feature_stats(parity_root, "stats_ours_key", split)
    stock = _feature_stats(parity_root, "stats_stock_key", split)
    assert set(ours) == set(stock) and len(ours) == 19  # 18 features + num_examples
    for name, expected in stock.items():
        got = ours[name]
        if name == "num_examples":
            assert got == expected
            continue
        for fact, value in expected.items():
            if isinstance(value, float):
                assert math.isclose(got[fact], value, rel_tol=1e-6, abs_tol=1e-9), (name, fact)
            else:
                assert got[fact] == value, (name, fact, got[fact], value)


def test_row_split_has_equal_totals_and_close_split_sizes(parity_root):
    ours, stock = _split_counts(parity_root, "ours_row"), _split_counts(parity_root, "stock_row")
    assert sum(ours.values()) == sum(stock.values()) == 3001
    # Each row lands in train with p=2/3 under either hash; the difference of two such counts has sigma ~36.
    sigma = math.sqrt(3001 * (2 / 3) * (1 / 3))
    for split in SPLITS:
        assert abs(ours[split] - stock[split]) <= 4 * sigma * math.sqrt(2), (ours, stock)


def test_artifact_records_span_counts_and_fingerprints(parity_root):
    import ml_metadata as mlmd
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(parity_root / "metadata.sqlite")
    store = mlmd.MetadataStore(config)
    [examples] = [a for a in store.get_artifacts_by_type("Examples") if "/ours_key/" in a.uri]
    props = examples.custom_properties
    assert json.loads(props["rows_per_split"].string_value) == _split_counts(parity_root, "ours_key")
    assert props["rows_read"].int_value == 3001 and props["bad_rows"].int_value == 0
    [(path, sha)] = json.loads(props["input_files_sha256"].string_value).items()
    assert path.endswith("taxi_sample.csv") and len(sha) == 64
    assert props["span"].int_value == 0 and props["input_fingerprint"].string_value.startswith("split:")
    assert json.loads(props["inferred_types"].string_value)["fare"] == "FLOAT"
