"""What each task of a training cluster did: a Keras callback that writes `<dir>/tasks/<type>-<index>.json`.

Every process of a multi-worker cluster runs the same `fit`; each writes its own
record (steps it ran, loss, a digest of its weights before and after), so a
run shows that every process took part in every step and ended with the same
weights. Written through tf.io.gfile: the directory may be gs://.
"""

from __future__ import annotations

import hashlib
import json

from tfxgate.training.cluster import task


def weights_digest(weights) -> str:
    """sha256 over the bytes of a list of numpy arrays (a model's `get_weights()`)."""
    digest = hashlib.sha256()
    for array in weights:
        digest.update(array.tobytes())
    return digest.hexdigest()


def task_record(directory: str):
    """A `tf.keras.callbacks.Callback` that writes this task's record to `directory/tasks/` at the end of `fit`."""
    import tensorflow as tf

    class TaskRecord(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.steps, self.initial = 0, weights_digest(self.model.get_weights())

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1

        def on_train_end(self, logs=None):
            kind, index = task()
            record = {
                "task": {"type": kind, "index": index},
                "steps": self.steps,
                "replicas": self.model.distribute_strategy.num_replicas_in_sync,
                "initial_weights_sha256": self.initial,
                "weights_sha256": weights_digest(self.model.get_weights()),
            }
            tf.io.gfile.makedirs(f"{directory}/tasks")
            with tf.io.gfile.GFile(f"{directory}/tasks/{kind}-{index}.json", "w") as handle:
                handle.write(json.dumps(record, indent=2))

    return TaskRecord()
