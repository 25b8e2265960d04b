"""tfxgate's ingestion component (see README.md in this folder)."""

from __future__ import annotations


def ingest_stage(config):
    """The pipeline's ingestion node, built from the typed config's `data` and `schema`.

    Args:
      config: a `tfxgate.pipelines.config.root.PipelineConfig`.
    """
    from tfxgate.components.ingest.component import Ingest  # TFX import deferred: `tfxgate check` stays fast

    data = config.data
    return Ingest(
        input_base=str(data.input_base),
        input_pattern=data.input_pattern,
        splits=dict(data.splits),
        data_format=data.format,
        key=data.key,
        span=data.span,
        span_range=data.span_range.numbers() if data.span_range else None,
        schema_text=config.schema_file.read_text() if config.schema_file else None,
        max_bad_rows=data.max_bad_rows,
        engine=data.engine,
        null_values=data.null_values,
        split_key=data.split_key,
    )
