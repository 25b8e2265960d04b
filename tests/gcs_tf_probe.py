"""Run by tests/test_gcs_tf_proxy.py in a subprocess with the proxy's environment: TensorFlow's and TFX's own `gs://`.

    python tests/gcs_tf_probe.py gs://BUCKET   # prints one JSON object: what each operation answered

TF is imported here only, never in the pytest process (the proxy variables would route all its HTTPS).
"""

from __future__ import annotations

import json
import sys

import tensorflow as tf
from tfx.dsl.io import fileio


class Scale(tf.Module):
    def __init__(self):
        self.factor = tf.Variable(3.0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def __call__(self, x):
        return x * self.factor


def gfile_round_trip(root: str) -> dict:
    gfile = tf.io.gfile
    gfile.makedirs(f"{root}/a/b")
    with gfile.GFile(f"{root}/a/f.txt", "w") as handle:
        handle.write("hello gcs\n")
    facts = {
        "isdir": gfile.isdir(f"{root}/a/b"),
        "read": gfile.GFile(f"{root}/a/f.txt").read(),
        "listdir": sorted(gfile.listdir(f"{root}/a")),
        "glob": gfile.glob(f"{root}/a/*.txt"),
    }
    gfile.rename(f"{root}/a/f.txt", f"{root}/a/g.txt")
    facts["renamed"] = [gfile.exists(f"{root}/a/f.txt"), gfile.exists(f"{root}/a/g.txt")]
    gfile.rename(f"{root}/a", f"{root}/moved")
    facts["moved"] = sorted(gfile.listdir(f"{root}/moved"))
    gfile.rmtree(f"{root}/moved")
    facts["after_rmtree"] = [gfile.exists(f"{root}/moved/g.txt"), gfile.exists(f"{root}/a/g.txt")]
    return facts


def saved_model_round_trip(path: str) -> list[float]:
    tf.saved_model.save(Scale(), path)
    return tf.saved_model.load(path)(tf.constant([1.0, 2.0])).numpy().tolist()


def fileio_round_trip(root: str) -> dict:
    fileio.makedirs(f"{root}/Trainer/model/1")
    with fileio.open(f"{root}/Trainer/model/1/x.txt", "w") as handle:
        handle.write("tfx")
    with fileio.open(f"{root}/Trainer/model/1/x.txt") as handle:
        text = handle.read()
    return {
        "read": text,
        "listdir": fileio.listdir(f"{root}/Trainer/model/1"),
        "isdir": fileio.isdir(f"{root}/Trainer"),
    }


def main(bucket: str) -> None:
    facts = {
        "gfile": gfile_round_trip(f"{bucket}/gfile"),
        "saved_model": saved_model_round_trip(f"{bucket}/model/1"),
        "saved_model_files": sorted(tf.io.gfile.listdir(f"{bucket}/model/1")),
        "fileio": fileio_round_trip(f"{bucket}/pipeline_root"),
    }
    print(json.dumps(facts))


if __name__ == "__main__":
    main(sys.argv[1])
