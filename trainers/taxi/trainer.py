"""Keras trainer module for the Chicago taxi demo (TFX Trainer `run_fn`).

Predicts `big_tipper`: did the rider tip more than 20% of the fare?

The pipeline has no Transform step, so this module owns both the feature
preprocessing and the label: they live inside the exported SavedModel as
TensorFlow ops, which keeps training and serving identical (no skew) and lets
TFMA evaluate raw examples:

* `serving_default(examples)` parses serialized tf.Examples and returns the
  tip probability (`outputs`).
* `transform_features(examples)` returns the label `big_tipper`; the Evaluator
  names it in `preprocessing_function_names` so TFMA can read the label from
  raw data.

TFX packages every `.py` file in this module's folder into a wheel and hashes
it for the Trainer's cache key: keep this file alone in its folder.

Hyperparameters come from the config's `stages.trainer.hyperparameters`
(TFX `custom_config`): batch_size, learning_rate, hidden_units, seed, and
`validate` (a validation pass over `eval_steps` eval batches during `fit`; off
by default: SliceEval judges the model on the eval split). The config's
`strategy`, `mixed_precision` and `per_replica_batch_size` arrive under
`custom_config["distribution"]`: the model is built under that tf.distribute
strategy (`mirrored` without a GPU falls back to one device, with a warning).

Under `multi_worker_mirrored` every process of the cluster runs this `run_fn`
(TF_CONFIG: Vertex AI's replicas, or `stages.trainer.local_workers` processes on
loopback); each writes what it did to `model_run/tasks/<type>-<index>.json` and
only the chief's export stays (tfxgate.training.cluster.model_dir).
"""

import logging

import tensorflow as tf

from tfxgate.training import cluster, inputs, record

LABEL_KEY = "big_tipper"

# Raw feature -> (dtype, default for a missing value).
_FLOAT = {
    "fare": 0.0,
    "trip_miles": 0.0,
    "pickup_latitude": 41.88,
    "pickup_longitude": -87.66,
    "dropoff_latitude": 41.88,
    "dropoff_longitude": -87.66,
    "tips": 0.0,
}
_INT = {
    "trip_seconds": 0,
    "trip_start_hour": 0,
    "trip_start_day": 0,
    "trip_start_month": 0,
    "pickup_community_area": 0,
    "dropoff_community_area": 0,
}
_STRING = {"payment_type": "", "company": ""}

# Categorical feature -> vocabulary size of its one-hot encoding.
_ONE_HOT = {
    "trip_start_hour": 24,
    "trip_start_day": 8,
    "trip_start_month": 13,
    "pickup_community_area": 78,
    "dropoff_community_area": 78,
}
_HASHED = {"payment_type": 8, "company": 32}


def _feature_spec():
    # RaggedFeature, not FixedLenFeature: ExampleGen writes an empty CSV cell as a
    # feature with zero values, which FixedLenFeature rejects.
    spec = {name: tf.io.RaggedFeature(tf.float32) for name in _FLOAT}
    spec.update({name: tf.io.RaggedFeature(tf.int64) for name in _INT})
    spec.update({name: tf.io.RaggedFeature(tf.string) for name in _STRING})
    return spec


_DEFAULTS = {**_FLOAT, **_INT, **_STRING}


def parse_examples(serialized):
    """Serialized tf.Examples (shape [batch]) -> dict of dense raw features ([batch])."""
    parsed = tf.io.parse_example(serialized, _feature_spec())
    return {
        name: tf.squeeze(values.to_tensor(default_value=_DEFAULTS[name], shape=[None, 1]), axis=1)
        for name, values in parsed.items()
    }


def label_of(features):
    """`big_tipper`: 1 when tips exceed 20% of the fare."""
    return tf.cast(features["tips"] > 0.2 * features["fare"], tf.int64)


def preprocess(features):
    """Raw features -> one dense float matrix; tips (the label's source) is excluded."""
    columns = [
        tf.math.log1p(tf.maximum(features["fare"], 0.0)),
        tf.math.log1p(tf.maximum(features["trip_miles"], 0.0)),
        tf.math.log1p(tf.maximum(tf.cast(features["trip_seconds"], tf.float32), 0.0)),
        (features["pickup_latitude"] - 41.88) * 10.0,
        (features["pickup_longitude"] + 87.66) * 10.0,
        (features["dropoff_latitude"] - 41.88) * 10.0,
        (features["dropoff_longitude"] + 87.66) * 10.0,
    ]
    dense = [tf.stack(columns, axis=1)]
    for name, size in _ONE_HOT.items():
        index = tf.clip_by_value(features[name], 0, size - 1)
        dense.append(tf.one_hot(index, size))
    for name, size in _HASHED.items():
        dense.append(tf.one_hot(tf.strings.to_hash_bucket_fast(features[name], size), size))
    return tf.concat(dense, axis=1)


def _to_xy(serialized):
    features = parse_examples(serialized)
    return preprocess(features), label_of(features)


def distribution_strategy(name):
    """The tf.distribute strategy `name` names, on the devices this machine has."""
    if name == "multi_worker_mirrored":
        # Reads TF_CONFIG (set by Vertex AI, or by tfxgate for stages.trainer.local_workers), before
        # anything else touches the TF runtime. RING: collectives that work on CPUs as on GPUs.
        ring = tf.distribute.experimental.CommunicationImplementation.RING
        options = tf.distribute.experimental.CommunicationOptions(implementation=ring)
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored":
        if not gpus:
            logging.warning("strategy 'mirrored' requested but no GPU is visible: training on one device (CPU)")
            return tf.distribute.OneDeviceStrategy("/cpu:0")
        return tf.distribute.MirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if name != "one_device":
        raise ValueError(f"unknown strategy {name!r}")
    return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")


def _model(width, hidden_units, learning_rate):
    inputs = tf.keras.Input(shape=(width,), name="features")
    x = inputs
    for units in hidden_units:
        x = tf.keras.layers.Dense(units, activation="relu")(x)
    # float32 output even under mixed precision: the sigmoid and loss need its range.
    outputs = tf.keras.layers.Dense(1, activation="sigmoid", dtype="float32")(x)
    model = tf.keras.Model(inputs, outputs)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=[tf.keras.metrics.AUC(name="auc"), tf.keras.metrics.BinaryAccuracy(name="binary_accuracy")],
    )
    return model


def _signatures(model):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(examples):
        return {"outputs": model(preprocess(parse_examples(examples)))}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(examples):
        return {LABEL_KEY: label_of(parse_examples(examples))}

    return {"serving_default": serve, "transform_features": transform_features}


def run_fn(fn_args):
    """TFX Trainer entry point."""
    hp = dict(fn_args.custom_config or {})
    distribution = dict(hp.get("distribution") or {})
    strategy = distribution_strategy(distribution.get("strategy", "one_device"))
    if distribution.get("mixed_precision"):
        policy = "mixed_bfloat16" if distribution.get("strategy") == "tpu" else "mixed_float16"
        tf.keras.mixed_precision.set_global_policy(policy)
    per_replica = distribution.get("per_replica_batch_size")
    batch_size = int(per_replica) * strategy.num_replicas_in_sync if per_replica else int(hp.get("batch_size", 128))
    logging.info(
        "training with %s on %d replica(s), global batch %d",
        type(strategy).__name__,
        strategy.num_replicas_in_sync,
        batch_size,
    )
    tf.keras.utils.set_random_seed(int(hp.get("seed", 42)))
    train = inputs.example_batches(fn_args.train_files, _to_xy, batch_size=batch_size, shuffle=True)
    width = int(train.element_spec[0].shape[-1])
    with strategy.scope():
        model = _model(width, [int(u) for u in hp.get("hidden_units", [32, 16])], float(hp.get("learning_rate", 1e-3)))
    # SliceEval judges the model on the eval split; a validation pass here would only print a loss.
    validation = {}
    if hp.get("validate"):
        evaluation = inputs.example_batches(fn_args.eval_files, _to_xy, batch_size=batch_size, shuffle=False)
        validation = {"validation_data": evaluation, "validation_steps": fn_args.eval_steps}
    callbacks = [record.task_record(fn_args.model_run_dir)]
    model.fit(train, steps_per_epoch=fn_args.train_steps, epochs=1, verbose=2, callbacks=callbacks, **validation)
    # Every task saves (a collective step); only the chief's copy stays. No layer traces: the
    # signatures are what serving and SliceEval call, and Keras rebuilds Dense layers from config.
    with cluster.model_dir(fn_args.serving_model_dir) as target:
        model.save(target, save_format="tf", signatures=_signatures(model), save_traces=False)
