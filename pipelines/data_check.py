"""What `tfxgate check` says about the data itself, beyond the config: a look at the first rows.

Warnings only (the config is valid; the data may still be what the user
means): today, numeric columns holding a few texts that are not declared as
missing-value tokens (`data.null_values`), which would be read as strings and
fail much later, in the Trainer.
"""

from __future__ import annotations

from tfxgate.components.ingest.null_values import tokens_in_numeric_columns
from tfxgate.pipelines.config.root import PipelineConfig
from tfxgate.settings import is_remote

SAMPLE_ROWS = 1000


def data_warnings(config: PipelineConfig) -> list[str]:
    """One line per finding in the first `SAMPLE_ROWS` rows of the first input file, naming the config key."""
    data = config.data
    if is_remote(data.path):
        return []  # `check` lists it as not checked
    path = data.first_file
    found = tokens_in_numeric_columns(path, data_format=data.format, null_values=data.null_values, rows=SAMPLE_ROWS)
    return [f"data.null_values: {column.describe(path)}" for column in found]
