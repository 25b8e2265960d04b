"""Reading a batch of serving logs, and the labels that arrive for them later.

A log file holds one row per request: its features, the model's output (the
`monitoring.prediction` column) and, optionally, a `monitoring.key` column
and the label. CSV (with header), Parquet and JSON lines (`.jsonl`/`.ndjson`)
are read with pyarrow through the one filesystem layer, so `gs://` and `s3://`
paths work. A labels file (same formats) is joined on the key.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from tfxgate.storage import filesystem

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class LogError(ValueError):
    """A log or labels file that cannot be read or lacks a column the monitor needs."""


def read(path: str) -> pa.Table:
    """One log (or labels) file as an Arrow table; the format follows the file's suffix."""
    kind = next((kind for suffix, kind in FORMATS.items() if str(path).lower().endswith(suffix)), None)
    if kind is None:
        raise LogError(f"{path}: unknown log format (use one of {', '.join(sorted(FORMATS))})")
    try:
        with filesystem.open_input(str(path)) as handle:
            if kind == "csv":
                return pa_csv.read_csv(handle, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True))
            if kind == "parquet":
                return pq.read_table(handle)
            return pa_json.read_json(handle)
    except FileNotFoundError as err:
        raise LogError(f"{path}: no such file") from err
    except (pa.ArrowInvalid, OSError) as err:
        raise LogError(f"{path}: not a readable {kind} file: {err}") from err


def with_labels(logs: pa.Table, labels: pa.Table, *, key: str, label: str, source: str) -> pa.Table:
    """`logs` with the `label` column of `labels` joined on `key` (a request without a label gets null)."""
    for column, table, where in ((key, labels, source), (label, labels, source), (key, logs, "the logs")):
        if column not in table.column_names:
            raise LogError(f"{where}: no column {column!r} (found: {', '.join(table.column_names)})")
    if label in logs.column_names:
        logs = logs.drop([label])
    # A dict, not Table.join: the logs keep their row order, and an all-null feature column does not stop it.
    arrived = dict(zip((str(k) for k in labels[key].to_pylist()), labels[label].to_pylist(), strict=True))
    values = [arrived.get(str(k)) for k in logs[key].to_pylist()]
    return logs.append_column(label, pa.array(values, type=labels.schema.field(label).type))


def require(table: pa.Table, columns: list[str], *, source: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise LogError(
            f"{source}: no column {', '.join(repr(c) for c in missing)} (found: {', '.join(table.column_names)})"
        )


def labelled(table: pa.Table, label: str) -> pa.Table:
    """The rows whose label has arrived (none when the logs carry no label column)."""
    if label not in table.column_names:
        return table.slice(0, 0)
    return table.filter(pc.is_valid(table[label]))
