"""The label's kind (`data.label_kind`): declared, or inferred from the first rows of the data.

Resolved once, when the config loads (`root.load_config`), so that `check`
refuses metrics that do not fit the label, shows what it inferred, and the
SliceEval node gets the kind as a parameter. A label the trainer derives (not
a column of the data, like the taxi demo's `big_tipper`) cannot be sampled: it
is binary unless declared.
"""

from __future__ import annotations

import csv
import itertools
from typing import Optional

from tfxgate.components.ingest.null_values import null_tokens
from tfxgate.components.slice_eval import label_kinds
from tfxgate.components.slice_eval.label_kinds import LabelKind
from tfxgate.pipelines.config.inputs import is_remote

SAMPLE_ROWS = 2000


def resolve(data) -> tuple[LabelKind, str, Optional[tuple[list[str], str]]]:
    """(the label's kind, where it came from, a (key path, message) problem or None).

    Args:
      data: the config's validated `DataSection`.
    """
    declared = data.label_kind
    if declared is not None and declared != "multiclass":
        return LabelKind(declared), "declared", None
    if declared == "multiclass" and data.num_classes is not None:
        return LabelKind("multiclass", data.num_classes), "declared", None
    try:
        values = sample_label(data)
    except (OSError, ValueError, IndexError, csv.Error):  # unreadable data: the cross-checks name the problem
        values = None
    if values is None and is_remote(data.path) and declared is None:
        return LabelKind(), "the default: remote data is not sampled; declare data.label_kind", None
    if values is None:
        if declared == "multiclass":
            problem = f"label {data.label!r} is not a column of the data: declare data.num_classes"
            return LabelKind("multiclass", 3), "declared", (["data", "num_classes"], problem)
        return (
            LabelKind(),
            f"the default: label {data.label!r} is not a column of the data; declare data.label_kind",
            None,
        )
    inferred, why = label_kinds.infer(values)
    if declared == "multiclass":
        classes = inferred.num_classes if inferred is not None and inferred.kind == "multiclass" else None
        if classes is None:
            problem = f"cannot count the classes of {data.label!r} in the data ({why}): declare data.num_classes"
            return LabelKind("multiclass", 3), "declared", (["data", "num_classes"], problem)
        return LabelKind("multiclass", classes), f"declared, {classes} classes counted in the data", None
    if inferred is None:
        return LabelKind(), f"the default: the data cannot tell ({why}); declare data.label_kind", None
    return inferred, f"inferred from the first {len(values)} rows of {data.first_file}: {why}", None


def sample_label(data) -> Optional[list[Optional[str]]]:
    """The text of the label's first `SAMPLE_ROWS` cells (None where missing), or None without such a column."""
    if is_remote(data.path):
        return None
    tokens = set(null_tokens(data.null_values))
    path = data.first_file
    if data.format == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        if data.label not in parquet.schema_arrow.names or parquet.metadata.num_row_groups == 0:
            return None
        column = parquet.read_row_group(0, columns=[data.label]).column(0).slice(0, SAMPLE_ROWS)
        texts = column.cast(pa.string()).to_pylist()
    else:
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            records = csv.reader(handle)
            header = [name.strip() for name in next(records, [])]
            if data.label not in header:
                return None
            index = header.index(data.label)
            texts = [r[index] for r in itertools.islice(records, SAMPLE_ROWS) if len(r) == len(header)]
    return [None if t is None or t in tokens else t for t in texts]
