"""Helpers for trainer modules: who this process is in a training cluster, where it may save, its input pipeline.

A trainer module (TFX's `run_fn`) imports these; none imports TensorFlow at
module load, so the package costs nothing to the processes that do not train.

* `cluster`: TF_CONFIG (chief or worker), the directory a task saves its model
  to (the chief's is the real one, a worker's a temporary one that is removed),
  loopback clusters of free ports.
* `launch` / `task`: run a `run_fn` as a chief plus N-1 worker processes on this
  machine, each with its TF_CONFIG (stages.trainer.local_workers).
* `record`: a Keras callback that writes what each task did (steps, weights digest).
* `inputs`: serialized tf.Examples -> batched, parsed, prefetched tf.data.
"""
