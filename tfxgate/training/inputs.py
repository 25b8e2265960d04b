"""A trainer's input pipeline: serialized tf.Examples on disk -> batched, parsed, prefetched tf.data.

The order is what makes it fast (TF's "Better performance with the tf.data API"):
read the records (GZIP or not, told by the file name), keep them in memory when
the split is small enough (`cache_bytes`; then the file is read and inflated
once, not on every pass), shuffle, repeat, batch, and only then parse: one
vectorised `parse` call per batch, in parallel, with the next batches
prefetched while the model trains on this one.

Parsing runs in parallel but hands the batches on in order (`deterministic=True`),
training too: with the seeded shuffle, the same examples make the very same model
however busy the machine is. Out-of-order parsing made a retrain on unchanged
data a different model (another fingerprint, judged anew) whenever one parse
call was slower than the next; keeping the order costs nothing measurable here
(benchmarks/README.md, `trainer_overhead`).
"""

from __future__ import annotations

from typing import Callable, Sequence

from tfxgate.training import cluster

# Compressed bytes on disk; the cached records take several times that in memory.
DEFAULT_CACHE_BYTES = 64 * 2**20


def files_of(file_patterns: Sequence[str]) -> list[str]:
    """The files matching the patterns (TFX's `fn_args.train_files`), sorted; an error when none does."""
    import tensorflow as tf

    files = sorted(f for pattern in file_patterns for f in tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no example file matches {list(file_patterns)}")
    return files


def example_batches(
    file_patterns: Sequence[str],
    parse: Callable,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int = 7,
    shuffle_buffer: int = 10_000,
    cache_bytes: int = DEFAULT_CACHE_BYTES,
):
    """An endless `tf.data.Dataset` of `parse(serialized batch)` over the examples in `file_patterns`.

    Args:
      file_patterns: TFRecord files or globs of serialized tf.Examples (`*.gz`: GZIP).
      parse: serialized strings [batch] -> a model input (e.g. `(features, label)`), built from
        `tf.io.parse_example` and vectorised ops.
      batch_size: examples per batch (the global batch under a tf.distribute strategy).
      shuffle: shuffle the examples (training) or keep their order (evaluation).
      cache_bytes: the split is held in memory when its files are at most this big in total.
    """
    import tensorflow as tf

    files = files_of(file_patterns)
    compression = "GZIP" if all(f.endswith(".gz") for f in files) else ""
    data = tf.data.TFRecordDataset(files, compression_type=compression, num_parallel_reads=tf.data.AUTOTUNE)
    if sum(tf.io.gfile.stat(f).length for f in files) <= cache_bytes:
        data = data.cache()
    if shuffle:
        data = data.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    data = data.repeat().batch(batch_size, drop_remainder=True)
    data = data.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)
    # Under a multi-worker strategy each process reads its own files; with fewer files than
    # processes (a small split is one file) file sharding would leave a process with no data.
    options = tf.data.Options()
    policy = tf.data.experimental.AutoShardPolicy
    by_file = len(files) >= cluster.size()
    options.experimental_distribute.auto_shard_policy = policy.FILE if by_file else policy.DATA
    return data.with_options(options)
