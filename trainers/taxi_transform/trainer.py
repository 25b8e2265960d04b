"""Keras trainer module for the Chicago taxi demo with TFX Transform (configs/taxi_transform.yaml).

Trains on the transformed examples Transform wrote (TFX's standard wiring:
`fn_args.transform_graph_path` and the transformed splits) and exports the
model with the transform graph inside (tft's `TransformFeaturesLayer`), so the
pushed SavedModel takes *raw* serialized tf.Examples, as serving sends them:

* `serving_default(examples)`: raw tf.Examples without the label's source
  (`tips`) -> `outputs`, the probability that the rider tips more than 20%.
* `transform_features(examples)`: raw tf.Examples -> `{big_tipper: 0/1}`,
  the label through the same graph; SliceEval reads it to evaluate raw examples.

Every transformed feature is an input: `*_xf` floats (z-scores) as they are,
`*_xf` integer ids (vocabulary, buckets, categories) one-hot encoded with the
size the transformed schema's `int_domain` gives. Hyperparameters come from
`stages.trainer.hyperparameters`: batch_size, learning_rate, hidden_units, seed;
with `stages.tune`, `tuner_fn` searches learning_rate, batch_size, layers and
units (`layers` hidden layers of `units` each) on the same transformed data, and
`run_fn` trains with the best values (`fn_args.hyperparameters`).
TFX packages every `.py` file in this folder: keep this file alone in it.
"""

import tensorflow as tf
import tensorflow_transform as tft
from tensorflow_metadata.proto.v0 import schema_pb2

LABEL_KEY = "big_tipper"
LABEL_SOURCE = "tips"  # serving requests do not carry it (the schema's SERVING environment)


def _inputs(tf_transform_output):
    """Transformed feature -> number of ids (one-hot) or None (a float used as it is)."""
    schema = tf_transform_output.transformed_metadata.schema
    found = {}
    for feature in schema.feature:
        if feature.name == LABEL_KEY or not feature.name.endswith("_xf"):
            continue
        if feature.type == schema_pb2.INT:
            if not feature.HasField("int_domain"):
                raise ValueError(f"transformed feature {feature.name!r} is an integer without an int_domain")
            found[feature.name] = int(feature.int_domain.max) + 1
        else:
            found[feature.name] = None
    return dict(sorted(found.items()))


def _dataset(file_patterns, tf_transform_output, batch_size, *, shuffle):
    files = sorted(f for pattern in file_patterns for f in tf.io.gfile.glob(pattern))
    data = tf.data.TFRecordDataset(files, compression_type="GZIP")
    if shuffle:
        data = data.shuffle(10_000, seed=7, reshuffle_each_iteration=True)
    spec = tf_transform_output.transformed_feature_spec()

    def split(serialized):
        features = tf.io.parse_example(serialized, spec)
        return features, features.pop(LABEL_KEY)

    return data.repeat().batch(batch_size).map(split).prefetch(tf.data.AUTOTUNE)


def _model(inputs, hidden_units, learning_rate):
    keras_inputs = {
        name: tf.keras.Input(shape=(), name=name, dtype=tf.float32 if n is None else tf.int64)
        for name, n in inputs.items()
    }
    parts = []
    for name, size in inputs.items():
        if size is None:
            parts.append(tf.expand_dims(keras_inputs[name], -1))
        else:
            parts.append(tf.keras.layers.CategoryEncoding(num_tokens=size, output_mode="one_hot")(keras_inputs[name]))
    x = tf.keras.layers.Concatenate()(parts)
    for units in hidden_units:
        x = tf.keras.layers.Dense(units, activation="relu")(x)
    outputs = tf.keras.layers.Dense(1, activation="sigmoid")(x)
    model = tf.keras.Model(keras_inputs, outputs)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=[tf.keras.metrics.AUC(name="auc"), tf.keras.metrics.BinaryAccuracy(name="binary_accuracy")],
    )
    return model


def _signatures(model, tf_transform_output, inputs):
    model.tft_layer = tf_transform_output.transform_features_layer()  # tracked: saved with the model
    raw_spec = tf_transform_output.raw_feature_spec()
    serving_spec = {name: spec for name, spec in raw_spec.items() if name != LABEL_SOURCE}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(examples):
        transformed = model.tft_layer(tf.io.parse_example(examples, serving_spec))
        return {"outputs": model({name: transformed[name] for name in inputs})}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(examples):
        transformed = model.tft_layer(tf.io.parse_example(examples, raw_spec))
        return {LABEL_KEY: transformed[LABEL_KEY]}

    return {"serving_default": serve, "transform_features": transform_features}


TUNABLE = ("learning_rate", "batch_size", "layers", "units")  # what stages.tune.search_space may name


def _train(fn_args, hp, *, verbose):
    """(model, fit History, transform output, inputs) after `fn_args.train_steps` steps with `hp`."""
    tf.keras.utils.set_random_seed(int(hp.get("seed", 42)))
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    inputs = _inputs(tf_transform_output)
    batch_size = int(hp.get("batch_size", 128))
    train = _dataset(fn_args.train_files, tf_transform_output, batch_size, shuffle=True)
    evaluation = _dataset(fn_args.eval_files, tf_transform_output, batch_size, shuffle=False)
    model = _model(inputs, [int(u) for u in hp.get("hidden_units", [32, 16])], float(hp.get("learning_rate", 0.01)))
    history = model.fit(
        train,
        steps_per_epoch=fn_args.train_steps,
        validation_data=evaluation,
        validation_steps=fn_args.eval_steps,
        epochs=1,
        verbose=verbose,
    )
    return model, history, tf_transform_output, inputs


def tuner_fn(fn_args):
    """TFX Tuner entry point: `stages.tune` (custom_config `tune`) searched over this module's training."""
    from tfx.components.tuner.component import TunerFnResult

    from tfxgate.tuning import keras_search

    hp = dict(fn_args.custom_config or {})
    tune = hp.pop("tune")
    keras_search.check_names(tune["search_space"], tunable=TUNABLE)

    def train_and_score(values):
        history = _train(fn_args, keras_search.with_values(hp, values, tunable=TUNABLE), verbose=0)[1]
        return {name: float(series[-1]) for name, series in history.history.items()}

    tuner = keras_search.tuner(tune, train_and_score=train_and_score, directory=fn_args.working_dir)
    return TunerFnResult(tuner=tuner, fit_kwargs={})


def run_fn(fn_args):
    """TFX Trainer entry point (with a transform graph, and the Tuner's best hyperparameters when tuned)."""
    hp = dict(fn_args.custom_config or {})
    if fn_args.hyperparameters:
        from tfxgate.tuning import keras_search

        hp = keras_search.with_values(hp, keras_search.best_values(fn_args.hyperparameters), tunable=TUNABLE)
    model, _, tf_transform_output, inputs = _train(fn_args, hp, verbose=2)
    model.save(fn_args.serving_model_dir, save_format="tf", signatures=_signatures(model, tf_transform_output, inputs))
