"""The transformed view of skew: one transform graph applied to the training data and the serving sample.

With `stages.transform` the model sees transformed features (z-scores,
vocabulary ids, bucket ids), and a shift can hide in that view while the raw
columns stay within thresholds: serving strings moving from values the
training vocabulary knows to ones it maps to its out-of-vocabulary ids, say.
So the skew check applies Transform's graph (tft's `TFTransformOutput`) to both
sides and compares the outputs like raw columns. Integer outputs the
transformed schema marks categorical (vocabulary, bucket ids) are compared as
categories.

Both sides go through the same path: rows -> tf.Examples -> the raw feature
spec -> the transform layer; an output that needs a column the serving sample
lacks (the label's source) is pruned by tft and left out.
"""

from __future__ import annotations

from typing import Iterable, Optional

import numpy as np

from tfxgate.drift import columns

SKEW_TRANSFORMED = "skew_transformed"  # the report's kind for the transformed view
_BATCH = 1024


def table_records(table, raw_spec: dict) -> list[bytes]:
    """Rows of an Arrow table (the serving CSV) as serialized tf.Examples of the raw features' types.

    Columns the raw spec does not name are dropped; a null cell is a feature with no value.
    """
    import tensorflow as tf

    columns = {name: table.column(name).to_pylist() for name in table.column_names if name in raw_spec}
    records = []
    for row in range(table.num_rows):
        example = tf.train.Example()
        for name, values in columns.items():
            value = values[row]
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            feature = example.features.feature[name]
            dtype = raw_spec[name].dtype
            if dtype == tf.string:
                feature.bytes_list.value.append(str(value).encode())
            elif dtype.is_integer:
                feature.int64_list.value.append(int(value))
            else:
                feature.float_list.value.append(float(value))
        records.append(example.SerializeToString())
    return records


class TransformedView:
    """Applies a transform graph to serialized raw tf.Examples, giving flat columns for check.compare_tables."""

    def __init__(self, transform_graph_uri: str):
        import tensorflow_transform as tft

        self.output = tft.TFTransformOutput(transform_graph_uri)
        self.layer = self.output.transform_features_layer()
        self.raw_spec = self.output.raw_feature_spec()
        schema = self.output.transformed_metadata.schema
        self.categorical = {f.name for f in schema.feature if f.int_domain.is_categorical}

    def columns(self, records: list[bytes], *, present: Optional[set[str]] = None) -> tuple[dict, set[str]]:
        """Transformed feature -> 1-D array (float, NaN where missing; object for strings); and the categorical ones.

        Args:
          present: the raw columns the records carry (default: all of the raw spec); the others are not fed.
        """
        import tensorflow as tf

        spec = {name: s for name, s in self.raw_spec.items() if present is None or name in present}
        parts: dict[str, list[np.ndarray]] = {}
        for start in range(0, len(records), _BATCH):
            batch = tf.constant(records[start : start + _BATCH])
            for name, tensor in self.layer(tf.io.parse_example(batch, spec)).items():
                parts.setdefault(name, []).append(_first_value(tensor))
        found = {name: np.concatenate(chunks) for name, chunks in parts.items()}
        strings = {name for name, values in found.items() if values.dtype == object}
        return found, strings | (self.categorical & set(found))

    def summarise(self, batches: Iterable[list[bytes]], *, source: str) -> tuple[columns.Summary, set[str]]:
        """The transformed columns of batches of records, summarised one batch at a time (memory flat in the
        rows: a training split is never held whole); and the categorical ones. What `columns` gives, summarised."""
        summarizer, categorical = columns.Summarizer(source=source), set()
        for records in batches:
            found, batch_categorical = self.columns(records)
            summarizer.add(found, categorical=batch_categorical, rows=len(records))
            categorical |= batch_categorical
        return summarizer.summary(), categorical


def _first_value(tensor) -> np.ndarray:
    """A transformed output ([batch] or [batch, k], dense or sparse) -> its first value per row."""
    import tensorflow as tf

    if isinstance(tensor, tf.SparseTensor):
        default = "" if tensor.dtype == tf.string else 0
        tensor = tf.sparse.to_dense(tensor, default_value=default)
    elif isinstance(tensor, tf.RaggedTensor):
        tensor = tensor.to_tensor()
    values = tensor.numpy()
    if values.ndim > 1:
        values = values[:, 0] if values.shape[1] else np.full(values.shape[0], np.nan)
    if values.dtype.kind in "SO":
        return np.asarray([v.decode() if isinstance(v, bytes) else v for v in values], dtype=object)
    return values.astype(np.float64)
