"""Keras trainer module for the wine example (multi-class): which of 3 cultivars a wine comes from.

A small softmax network on every numeric feature of the schema (except the
label), standardised with the training data's mean and deviation; a missing
value (a `data.null_values` token in the CSV) counts as the mean. The exported
SavedModel follows tfxgate's trainer contract (README, "Writing your own trainer"):

* `serving_default(examples)`: serialized tf.Examples -> `outputs`, the
  probability of each class ([batch, num_classes]).
* `transform_features(examples)`: -> the label (the class id 0..n-1) under its
  key, which SliceEval reads.

Hyperparameters (`stages.trainer.hyperparameters`, TFX `custom_config`): label,
num_classes, hidden_units, learning_rate, batch_size, seed.
TFX packages every `.py` in this folder: keep this file alone in it.
"""

import numpy as np
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

_DTYPES = {schema_pb2.FLOAT: tf.float32, schema_pb2.INT: tf.int64}


def _numeric_features(schema_path, label):
    schema = text_format.Parse(tf.io.gfile.GFile(schema_path).read(), schema_pb2.Schema())
    return {f.name: _DTYPES[f.type] for f in schema.feature if f.type in _DTYPES and f.name != label}


def _parser(features, label):
    spec = {name: tf.io.RaggedFeature(dtype) for name, dtype in features.items()}
    spec[label] = tf.io.RaggedFeature(tf.int64)

    def parse(serialized):
        """Serialized tf.Examples -> (a [batch, features] float matrix with NaN where missing, the labels)."""
        parsed = tf.io.parse_example(serialized, spec)
        columns = [
            tf.cast(parsed[name].to_tensor(default_value=0, shape=[None, 1]), tf.float32)
            + tf.where(tf.equal(parsed[name].row_lengths(), 0), np.nan, 0.0)[:, None]
            for name in features
        ]
        labels = tf.squeeze(parsed[label].to_tensor(default_value=-1, shape=[None, 1]), axis=1)
        return tf.concat(columns, axis=1), labels

    return parse


def _read(files, parse):
    data = tf.data.TFRecordDataset(sorted(f for p in files for f in tf.io.gfile.glob(p)), compression_type="GZIP")
    return data.batch(100_000).map(parse)


def run_fn(fn_args):
    """TFX Trainer entry point."""
    hp = dict(fn_args.custom_config or {})
    label, classes = hp["label"], int(hp["num_classes"])
    tf.keras.utils.set_random_seed(int(hp.get("seed", 42)))
    features = _numeric_features(fn_args.schema_path, label)
    parse = _parser(features, label)
    x, y = next(iter(_read(fn_args.train_files, parse)))
    mean, std = np.nanmean(x.numpy(), axis=0), np.nanstd(x.numpy(), axis=0) + 1e-6

    def standardise(matrix):
        # A missing value becomes the mean: 0 once standardised.
        scaled = (matrix - mean.astype(np.float32)) / std.astype(np.float32)
        return tf.where(tf.math.is_nan(scaled), 0.0, scaled)

    inputs = tf.keras.Input(shape=(len(features),))
    hidden = inputs
    for units in hp.get("hidden_units", [16]):
        hidden = tf.keras.layers.Dense(int(units), activation="relu")(hidden)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(classes, activation="softmax")(hidden))
    model.compile(tf.keras.optimizers.Adam(float(hp.get("learning_rate", 0.05))), "sparse_categorical_crossentropy")
    train = tf.data.Dataset.from_tensor_slices((standardise(x), y)).shuffle(1000, seed=7).repeat()
    model.fit(train.batch(int(hp.get("batch_size", 32))), steps_per_epoch=fn_args.train_steps, epochs=1, verbose=2)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(examples):
        return {"outputs": model(standardise(parse(examples)[0]))}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(examples):
        return {label: parse(examples)[1]}

    signatures = {"serving_default": serve, "transform_features": transform_features}
    model.save(fn_args.serving_model_dir, save_format="tf", signatures=signatures)
