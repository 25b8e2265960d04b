"""TFX Transform `preprocessing_fn` for the Chicago taxi demo (configs/taxi_transform.yaml).

In the style of TFX's stock taxi example (`taxi_utils_native_keras.py`):
dense floats are z-scored, strings mapped to ids through a vocabulary computed
on the training split, coordinates bucketized into quantiles, small integers
kept as categorical ids, and the label `big_tipper` (tips > 20% of the fare)
derived here. Transform writes the analysers' results (means, vocabularies,
bucket boundaries) into the transform graph; the trainer module
(trainers/taxi_transform/trainer.py) reads the transformed examples and
exports a serving signature that applies the same graph to raw tf.Examples.

The trainer imports no constant from here (TFX packages each module's folder
on its own): the transformed names are the raw name plus `_xf`, and each
trainer-facing size is read from the transformed schema's `int_domain`.
TFX packages every `.py` in this folder: keep this file alone in it.
"""

import tensorflow as tf
import tensorflow_transform as tft

LABEL_KEY = "big_tipper"
DENSE_FLOAT_FEATURE_KEYS = ["fare", "trip_miles", "trip_seconds"]
VOCAB_FEATURE_KEYS = ["payment_type", "company"]
BUCKET_FEATURE_KEYS = ["pickup_latitude", "pickup_longitude", "dropoff_latitude", "dropoff_longitude"]
# Integer feature -> its largest value: kept as categorical ids in [0, max].
CATEGORICAL_FEATURE_MAX = {"trip_start_hour": 23, "trip_start_day": 7, "trip_start_month": 12}
VOCAB_SIZE = 100  # the most frequent strings of the training split get their own id...
OOV_SIZE = 2  # ...every other one one of these
FEATURE_BUCKET_COUNT = 10


def transformed_name(key):
    return key + "_xf"


def _fill_in_missing(x, default):
    """A [batch, 0-or-1] SparseTensor (a CSV cell may be empty) -> a dense [batch] tensor."""
    if not isinstance(x, tf.sparse.SparseTensor):
        return tf.reshape(x, [-1])
    dense = tf.sparse.to_dense(tf.SparseTensor(x.indices, x.values, [x.dense_shape[0], 1]), default)
    return tf.squeeze(dense, axis=1)


def preprocessing_fn(inputs):
    """Raw features (tf.Example as parsed by the schema) -> transformed features and the label."""
    outputs = {}
    for key in DENSE_FLOAT_FEATURE_KEYS:
        value = tf.cast(_fill_in_missing(inputs[key], tf.constant(0, inputs[key].dtype)), tf.float32)
        outputs[transformed_name(key)] = tft.scale_to_z_score(value)
    for key in VOCAB_FEATURE_KEYS:
        outputs[transformed_name(key)] = tft.compute_and_apply_vocabulary(
            _fill_in_missing(inputs[key], ""), top_k=VOCAB_SIZE, num_oov_buckets=OOV_SIZE, vocab_filename=key
        )
    for key in BUCKET_FEATURE_KEYS:
        outputs[transformed_name(key)] = tft.bucketize(_fill_in_missing(inputs[key], 0.0), FEATURE_BUCKET_COUNT)
    for key, largest in CATEGORICAL_FEATURE_MAX.items():
        ids = tf.clip_by_value(_fill_in_missing(inputs[key], tf.constant(0, tf.int64)), 0, largest)
        outputs[transformed_name(key)] = tft.apply_buckets(tf.cast(ids, tf.float32), [list(range(1, largest + 1))])
    fare = _fill_in_missing(inputs["fare"], 0.0)
    tips = _fill_in_missing(inputs["tips"], 0.0)
    outputs[LABEL_KEY] = tf.cast(tips > 0.2 * fare, tf.int64)
    return outputs
