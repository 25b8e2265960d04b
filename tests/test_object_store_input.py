"""Ingest's inputs on an S3 server (moto on loopback): TFX's `fileio` through tfxgate's filesystem layer.

ExampleGen's driver resolves spans and fingerprints files with `fileio`;
TensorFlow has no `s3://` without tensorflow-io, so without the plugin
(components/ingest/object_store_input.py) none of this reaches the server.
"""

from __future__ import annotations

import pytest

from tfxgate.storage import filesystem

pytest.importorskip("tfx")


def test_the_ingest_driver_resolves_the_latest_span_on_s3(s3_server):
    from tfx.components.example_gen import utils
    from tfx.dsl.io import fileio
    from tfx.proto import example_gen_pb2

    from tfxgate.components.ingest import object_store_input
    from tfxgate.components.ingest.component import check_input_exists
    from tfxgate.components.ingest.executor import input_files

    bucket = s3_server.new_bucket("data")
    for span in (1, 2):
        filesystem.write_text(f"{bucket}/taxi/span-{span}/part.csv", f"a,b\n{span},x\n")
    assert issubclass(fileio._get_filesystem(bucket), object_store_input.ObjectStoreFilesystem)

    base = f"{bucket}/taxi"
    check_input_exists(base, ["span-{SPAN}/*.csv"])
    with pytest.raises(FileNotFoundError, match="span pattern matches nothing"):
        check_input_exists(base, ["other-{SPAN}/*.csv"])
    splits = [example_gen_pb2.Input.Split(name="single_split", pattern="span-{SPAN}/*.csv")]
    fingerprint, span, version = utils.calculate_splits_fingerprint_span_and_version(base, splits)
    assert (span, version) == (2, None)
    assert "num_files:1,total_bytes:8" in fingerprint
    [path] = input_files(base, ["span-2/*.csv"])
    assert path == f"{base}/span-2/part.csv"
    with fileio.open(path, "rb") as handle:  # how the executor reads its input (components/ingest/executor.py)
        assert handle.read() == b"a,b\n2,x\n"
    assert fileio.stat(path).length == 8
