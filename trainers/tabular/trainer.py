"""Keras trainer module for any tabular data: the one `tfxgate init --csv` writes into a project.

Which columns it uses, and how, comes from `stages.trainer.hyperparameters`
(TFX `custom_config`), which `tfxgate init --csv` fills in from the data:

* `label`, `label_kind` (`binary`, `multiclass`, `regression`) and `classes`
  (the label's values; a value's class id is its position in the list, so for
  binary the second is the positive class).
* `numeric`: columns standardised with the mean and deviation of the first
  `stats_rows` training rows; a missing or non-finite value counts as the mean.
* `categorical`: columns one-hot encoded on the `max_vocabulary` most frequent
  values of those rows; any other value (rarer, or new) is hashed into one of
  `oov_buckets` inputs; a missing value sets none.
* `hidden_units`, `learning_rate`, `batch_size`, `seed`, `stats_rows`,
  `max_vocabulary`, `oov_buckets`.

With `stages.tune`, `tuner_fn` searches `learning_rate`, `batch_size`, `layers`
and `units` (`layers` hidden layers of `units` each) for the Tuner's steps per
trial, and `run_fn` trains with the best values found (`fn_args.hyperparameters`,
the Tuner's output or the last one reused from ML Metadata).

Each column's type (INT, FLOAT or BYTES) is read from the run's schema, so a
curated schema and an inferred one both work. The SavedModel follows tfxgate's
trainer contract (README, "Writing your own trainer"):

* `serving_default(examples)`: serialized tf.Examples, without the label ->
  `outputs`: the probability of the positive class ([batch, 1], binary), one
  probability per class ([batch, n], multiclass), or the predicted number
  ([batch, 1], regression).
* `transform_features(examples)`: -> `{label: the class id}` (-1 for a missing
  label or one not in `classes`) or `{label: the number}` (regression);
  SliceEval reads the label through it.

TFX packages every `.py` in this folder: keep this file alone in it.
"""

import collections

import numpy as np
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

_DTYPES = {schema_pb2.INT: tf.int64, schema_pb2.FLOAT: tf.float32, schema_pb2.BYTES: tf.string}
_EXAMPLES = tf.TensorSpec([None], tf.string, name="examples")


def _column_types(schema_path, names):
    """Column -> tf dtype, from the schema; every column the hyperparameters name must be there."""
    schema = text_format.Parse(tf.io.gfile.GFile(schema_path).read(), schema_pb2.Schema())
    types = {f.name: _DTYPES[f.type] for f in schema.feature if f.type in _DTYPES}
    missing = [name for name in names if name not in types]
    if missing:
        raise ValueError(
            f"stages.trainer.hyperparameters name column(s) {missing} that the schema {schema_path} does not type "
            f"(its typed features: {sorted(types)})"
        )
    return {name: types[name] for name in names}


class Columns:
    """Parses serialized tf.Examples into dense columns: numbers (NaN where missing), texts, the label."""

    def __init__(self, hp, types):
        self.label, self.kind = hp["label"], hp["label_kind"]
        self.numeric = list(hp.get("numeric") or [])
        self.categorical = list(hp.get("categorical") or [])
        self.types = types
        classes = list(hp.get("classes") or [])
        if self.kind != "regression" and len(classes) < 2:
            raise ValueError(f"stages.trainer.hyperparameters.classes: a {self.kind} label needs its classes")
        text_label = types[self.label] == tf.string
        self.classes = [str(c) for c in classes] if text_label else [float(c) for c in classes]

    def features(self, serialized):
        """{numeric: float32 [batch] with NaN where missing or non-finite, categorical: (string, present)}."""
        names = self.numeric + self.categorical
        parsed = tf.io.parse_example(serialized, {n: tf.io.RaggedFeature(self.types[n]) for n in names})
        out = {}
        for name in self.numeric:
            value = tf.cast(parsed[name].to_tensor(default_value=0, shape=[None, 1])[:, 0], tf.float32)
            present = tf.logical_and(parsed[name].row_lengths() > 0, tf.math.is_finite(value))
            out[name] = tf.where(present, value, np.nan)
        for name in self.categorical:
            value = parsed[name].to_tensor(shape=[None, 1])[:, 0]
            text = value if self.types[name] == tf.string else tf.strings.as_string(value)
            out[name] = (text, parsed[name].row_lengths() > 0)
        return out

    def target(self, serialized):
        """The class id (int64, -1 when missing or unknown) or the number (float32, NaN when missing)."""
        dtype = self.types[self.label]
        parsed = tf.io.parse_example(serialized, {self.label: tf.io.RaggedFeature(dtype)})[self.label]
        present = parsed.row_lengths() > 0
        value = parsed.to_tensor(shape=[None, 1])[:, 0]
        if self.kind == "regression":
            return tf.where(present, tf.cast(value, tf.float32), np.nan)
        if dtype != tf.string:
            value = tf.cast(value, tf.float32)
        matches = tf.equal(value[:, None], tf.constant(self.classes)[None, :])
        known = tf.logical_and(present, tf.reduce_any(matches, axis=1))
        return tf.where(known, tf.argmax(tf.cast(matches, tf.int32), axis=1), tf.constant(-1, tf.int64))


class Encoder:
    """Dense columns -> one float matrix, with statistics fitted on a sample of the training rows."""

    def __init__(self, sample, *, numeric, categorical, max_vocabulary, oov_buckets):
        self.numeric, self.categorical, self.oov_buckets = numeric, categorical, oov_buckets
        values = np.stack([sample[n].numpy() for n in numeric], axis=1) if numeric else np.zeros((1, 0))
        with np.errstate(all="ignore"):  # a column with no value in the sample: mean 0, deviation 1
            self.mean = np.nan_to_num(np.nanmean(values, axis=0)).astype(np.float32)
            self.std = (np.nan_to_num(np.nanstd(values, axis=0)) + 1e-6).astype(np.float32)
        self.vocabulary = {}
        for name in categorical:
            text, present = (t.numpy() for t in sample[name])
            counts = collections.Counter(text[present].tolist())
            frequent = sorted(counts, key=lambda v: (-counts[v], v))[:max_vocabulary]
            self.vocabulary[name] = frequent

    def __call__(self, columns):
        parts = []
        if self.numeric:
            scaled = (tf.stack([columns[n] for n in self.numeric], axis=1) - self.mean) / self.std
            parts.append(tf.where(tf.math.is_nan(scaled), 0.0, scaled))  # missing: the mean
        for name in self.categorical:
            text, present = columns[name]
            present = tf.cast(present, tf.float32)[:, None]
            vocabulary = self.vocabulary[name]
            known = tf.zeros_like(present)
            if vocabulary:
                one_hot = tf.cast(tf.equal(text[:, None], tf.constant(vocabulary)[None, :]), tf.float32)
                known = tf.reduce_max(one_hot, axis=1, keepdims=True)
                parts.append(one_hot)
            hashed = tf.one_hot(tf.strings.to_hash_bucket_fast(text, self.oov_buckets), self.oov_buckets)
            parts.append(hashed * present * (1.0 - known))
        return tf.concat(parts, axis=1)


def _records(file_patterns):
    files = sorted(f for pattern in file_patterns for f in tf.io.gfile.glob(pattern))
    return tf.data.TFRecordDataset(files, compression_type="GZIP")


def _head(kind, classes):
    """(output units, activation, loss) of the label's kind."""
    if kind == "binary":
        return 1, "sigmoid", "binary_crossentropy"
    if kind == "multiclass":
        return len(classes), "softmax", "sparse_categorical_crossentropy"
    return 1, None, "mean_squared_error"


# What `stages.tune.search_space` may name: `layers` hidden layers of `units` each replace `hidden_units`.
TUNABLE = ("learning_rate", "batch_size", "layers", "units")


class Prepared:
    """The data side of training, shared by every trial of a search and the final fit."""

    def __init__(self, fn_args, hp):
        names = [*(hp.get("numeric") or []), *(hp.get("categorical") or []), hp["label"]]
        self.columns = columns = Columns(hp, _column_types(fn_args.schema_path, names))
        if not columns.numeric + columns.categorical:
            raise ValueError("stages.trainer.hyperparameters: no feature column (numeric, categorical)")
        stats_rows = int(hp.get("stats_rows", 10_000))
        self.sample = next(iter(_records(fn_args.train_files).take(stats_rows).batch(stats_rows)))
        self.encoder = Encoder(
            columns.features(self.sample),
            numeric=columns.numeric,
            categorical=columns.categorical,
            max_vocabulary=int(hp.get("max_vocabulary", 50)),
            oov_buckets=int(hp.get("oov_buckets", 8)),
        )
        y = columns.target(self.sample).numpy()
        self.regression = columns.kind == "regression"
        # Regression learns the standardised label; the serving output is scaled back to the label's units.
        self.y_mean = float(np.nanmean(y)) if self.regression else 0.0
        self.y_std = float(np.nanstd(y)) + 1e-6 if self.regression else 1.0
        self.width = int(self.to_xy(self.sample)[0].shape[1])

    def to_xy(self, serialized):
        x, target = self.encoder(self.columns.features(serialized)), self.columns.target(serialized)
        keep = tf.math.is_finite(target) if self.regression else target >= 0  # rows without a (known) label
        target = (target - self.y_mean) / self.y_std if self.regression else target
        return tf.boolean_mask(x, keep), tf.boolean_mask(target, keep)

    def batches(self, files, *, batch, shuffle):
        data = _records(files)
        data = data.shuffle(10_000, seed=7) if shuffle else data
        return data.repeat().batch(batch).map(self.to_xy).prefetch(tf.data.AUTOTUNE)


def with_tuned(hp, values):
    """The hyperparameters with the tuned `values` in place (`layers` x `units` -> `hidden_units`)."""
    from tfxgate.tuning import keras_search

    return keras_search.with_values(hp, values, tunable=TUNABLE)


def _fit(prepared, hp, fn_args, *, verbose):
    """A model trained for `fn_args.train_steps` with `hp`, and its fit History."""
    tf.keras.utils.set_random_seed(int(hp.get("seed", 42)))
    units, activation, loss = _head(prepared.columns.kind, prepared.columns.classes)
    inputs = tf.keras.Input(shape=(prepared.width,))
    hidden = inputs
    for size in hp.get("hidden_units", [32, 16]):
        hidden = tf.keras.layers.Dense(int(size), activation="relu")(hidden)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(units, activation=activation)(hidden))
    model.compile(tf.keras.optimizers.Adam(float(hp.get("learning_rate", 0.01))), loss)
    batch = int(hp.get("batch_size", 64))
    history = model.fit(
        prepared.batches(fn_args.train_files, batch=batch, shuffle=True),
        steps_per_epoch=fn_args.train_steps,
        validation_data=prepared.batches(fn_args.eval_files, batch=batch, shuffle=False),
        validation_steps=fn_args.eval_steps,
        epochs=1,
        verbose=verbose,
    )
    return model, history


def tuner_fn(fn_args):
    """TFX Tuner entry point: `stages.tune` (custom_config `tune`) searched over this trainer's training."""
    from tfx.components.tuner.component import TunerFnResult

    from tfxgate.tuning import keras_search

    hp = dict(fn_args.custom_config or {})
    tune = hp.pop("tune")
    keras_search.check_names(tune["search_space"], tunable=TUNABLE)  # before the first trial, not in it
    prepared = Prepared(fn_args, hp)

    def train_and_score(values):
        _, history = _fit(prepared, with_tuned(hp, values), fn_args, verbose=0)
        return {name: float(series[-1]) for name, series in history.history.items()}

    tuner = keras_search.tuner(tune, train_and_score=train_and_score, directory=fn_args.working_dir)
    return TunerFnResult(tuner=tuner, fit_kwargs={})


def run_fn(fn_args):
    """TFX Trainer entry point; with a Tuner upstream, its best hyperparameters replace the configured ones."""
    hp = dict(fn_args.custom_config or {})
    if fn_args.hyperparameters:  # the Tuner's best (TFX's Trainer input `hyperparameters`)
        from tfxgate.tuning import keras_search

        hp = with_tuned(hp, keras_search.best_values(fn_args.hyperparameters))
    prepared = Prepared(fn_args, hp)
    model, _ = _fit(prepared, hp, fn_args, verbose=2)
    columns, encoder, y_mean, y_std = prepared.columns, prepared.encoder, prepared.y_mean, prepared.y_std

    @tf.function(input_signature=[_EXAMPLES])
    def serve(examples):
        return {"outputs": model(encoder(columns.features(examples))) * y_std + y_mean}

    @tf.function(input_signature=[_EXAMPLES])
    def transform_features(examples):
        return {columns.label: columns.target(examples)}

    signatures = {"serving_default": serve, "transform_features": transform_features}
    model.save(fn_args.serving_model_dir, save_format="tf", signatures=signatures)
