"""The trainers' input pipeline (tfxgate.training.inputs): the same seed gives the same batches in the same order.

A seeded trainer must make the very same model from the same examples: the
governance layer binds a pending decision to the model's fingerprint, and a
retrain on unchanged data must not turn into a new, differently judged model
because the machine was busy. Parsing runs in parallel; when a batch's parse
takes longer than the next one's (a loaded machine), the batches must still
come out in order.
"""

from __future__ import annotations

import random
import time

import pytest

from tfxgate.training import inputs


def _records(tmp_path, count: int) -> list[str]:
    import tensorflow as tf

    path = str(tmp_path / "part-0.gz")
    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for i in range(count):
            feature = tf.train.Feature(int64_list=tf.train.Int64List(value=[i]))
            writer.write(tf.train.Example(features=tf.train.Features(feature={"i": feature})).SerializeToString())
    return [path]


def _unevenly_slow_parse():
    """Parses a batch after a random pause, as a busy machine would delay one parse call and not the next."""
    import tensorflow as tf

    def pause(batch):
        time.sleep(random.uniform(0, 0.02))
        return batch

    def parse(serialized):
        serialized = tf.py_function(pause, [serialized], tf.string)
        return tf.io.parse_example(serialized, {"i": tf.io.FixedLenFeature([1], tf.int64)})["i"]

    return parse


def _first_batches(files, *, shuffle: bool, count: int) -> list[list[int]]:
    data = inputs.example_batches(files, _unevenly_slow_parse(), batch_size=4, shuffle=shuffle, seed=7)
    return [batch.numpy().ravel().tolist() for batch in data.take(count)]


@pytest.mark.parametrize("shuffle", [True, False], ids=["train", "eval"])
def test_the_same_seed_yields_the_same_batches_in_the_same_order(tmp_path, shuffle):
    files = _records(tmp_path, 200)
    first = _first_batches(files, shuffle=shuffle, count=40)
    again = _first_batches(files, shuffle=shuffle, count=40)
    assert first == again
    in_file_order = [list(range(i, i + 4)) for i in range(0, 160, 4)]
    assert (first != in_file_order) if shuffle else (first == in_file_order)
