"""Reading a curated `schema.pbtxt`: parse errors name the file and line.

Only protobuf and tensorflow_metadata are imported (no TensorFlow), so config
loading can check the schema up front.
"""

from __future__ import annotations

from pathlib import Path

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2


class SchemaFileError(ValueError):
    """A schema file that cannot be read or parsed."""


def read_schema(path: Path) -> schema_pb2.Schema:
    """Parses a text-format TFDV schema.

    Raises:
      SchemaFileError: naming the file and the parser's line:column and reason.
    """
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise SchemaFileError(f"cannot read schema {path}: {err}") from None
    try:
        return text_format.Parse(text, schema_pb2.Schema())
    except text_format.ParseError as err:
        raise SchemaFileError(f"{path} does not parse as a TFDV schema: line {err}") from None


def feature_names(schema: schema_pb2.Schema) -> set[str]:
    return {feature.name for feature in schema.feature}


def environments(schema: schema_pb2.Schema) -> list[str]:
    """The environments the schema declares (`default_environment`), e.g. TRAINING and SERVING."""
    return list(schema.default_environment)
