"""A seeded serving-log generator for monitoring tests: a clean week, and a week where one slice's labels change.

Requests are taxi rides drawn (seeded) from the taxi sample the pipeline was
trained on, without `tips` (unknown when the ride is requested); each row gets
a `request_id`, the `model_version` that answered and the `prediction` of the
real pushed SavedModel (its `serving_default` signature on the ride as a
tf.Example). The labels (`big_tipper`: tips > 20% of the fare, as the taxi
trainer derives it) go to a separate file, as labels arrive later. In the
drifted week the label relationship changes for one slice only
(`payment_type=Cash` riders now tip: their label is flipped), so the inputs
and the predictions keep their distribution and only the metrics of that
slice (and, through it, the overall ones) fall.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

DRIFTED_SLICE = ("payment_type", "Cash")


def _examples(table: pa.Table) -> list[bytes]:
    import tensorflow as tf

    out = []
    columns = {name: table[name].to_pylist() for name in table.column_names}
    for i in range(table.num_rows):
        feature = {}
        for name, values in columns.items():
            value = values[i]
            if value is None:
                continue
            kind = table.schema.field(name).type
            if pa.types.is_integer(kind):
                feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
            elif pa.types.is_floating(kind):
                feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
            else:
                feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(value).encode()]))
        out.append(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    return out


def predict(model_dir: Path, table: pa.Table) -> np.ndarray:
    """The pushed SavedModel's `outputs` for each row (`serving_default` on serialized tf.Examples)."""
    import tensorflow as tf

    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    return np.asarray(serve(examples=tf.constant(_examples(table)))["outputs"]).reshape(-1)


def week(
    sample_csv: Path, models: dict[str, Path], out: Path, *, rows: int = 600, seed: int = 0, drifted: bool = False
) -> tuple[Path, Path]:
    """Writes `<out>/logs.csv` (features, request_id, model_version, prediction) and `<out>/labels.csv`.

    `models` maps each served version to its pushed SavedModel folder; the requests are dealt to them in turn.
    """
    rides = pa_csv.read_csv(sample_csv)
    rng = np.random.default_rng(seed)
    picked = rides.take(pa.array(rng.choice(rides.num_rows, size=rows, replace=False)))
    tips, fare = (np.nan_to_num(np.asarray(picked[c].to_pylist(), dtype=float)) for c in ("tips", "fare"))
    label = (tips > 0.2 * fare).astype(int)
    if drifted:
        feature, value = DRIFTED_SLICE
        in_slice = np.asarray(picked[feature].to_pylist(), dtype=object) == value
        label = np.where(in_slice, 1 - label, label)
    requests = picked.drop(["tips"])
    ids = [f"{seed}-{i}" for i in range(rows)]
    logs = requests.append_column("request_id", pa.array(ids))
    versions = np.array([list(models)[i % len(models)] for i in range(rows)], dtype=object)
    prediction = np.zeros(rows)
    for version, model_dir in models.items():
        answered = np.flatnonzero(versions == version)
        prediction[answered] = predict(model_dir, requests.take(pa.array(answered)))
    logs = logs.append_column("model_version", pa.array(versions.tolist(), type=pa.string()))
    logs = logs.append_column("prediction", pa.array(prediction))
    out.mkdir(parents=True, exist_ok=True)
    pa_csv.write_csv(logs, out / "logs.csv")
    pa_csv.write_csv(pa.table({"request_id": ids, "big_tipper": label}), out / "labels.csv")
    return out / "logs.csv", out / "labels.csv"
