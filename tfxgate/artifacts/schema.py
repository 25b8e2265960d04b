"""Reading a TFDV schema: a curated `schema.pbtxt` (parse errors name the file and line) or a Schema artifact.

Only protobuf and tensorflow_metadata are imported (no TensorFlow), so config
loading can check the schema up front. A Schema artifact (ImportSchemaGen,
SchemaGen) is a directory holding one `*.pbtxt`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from tfxgate.storage import filesystem

log = logging.getLogger(__name__)


class SchemaFileError(ValueError):
    """A schema file that cannot be read or parsed."""


def read_schema(path: Union[str, Path]) -> schema_pb2.Schema:
    """Parses a text-format TFDV schema: a local file or an object on a store (a `gs://` artifact root).

    Raises:
      SchemaFileError: naming the file and the parser's line:column and reason.
    """
    try:
        text = filesystem.read_text(path)
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


@dataclass
class Schema:
    """A Schema artifact as the lineage shows it."""

    artifact_id: int
    uri: str
    features: Optional[list[dict]]  # [{name, type}]; None when the file is gone

    @property
    def feature_count(self) -> Optional[int]:
        return None if self.features is None else len(self.features)


def schema_features(uri: str) -> Optional[list[dict]]:
    """[{name, type}] of the schema in the artifact directory; None when unreadable."""
    files = filesystem.glob(os.path.join(str(uri), "*.pbtxt"))
    if not files:
        return None
    try:
        schema = read_schema(files[0])
    except SchemaFileError:
        log.exception("schema %s is unreadable; shown without its features", files[0])
        return None
    return [{"name": f.name, "type": schema_pb2.FeatureType.Name(f.type)} for f in schema.feature]


def read(artifact) -> Schema:
    """A Schema artifact with its features."""
    return Schema(artifact_id=artifact.id, uri=artifact.uri, features=schema_features(artifact.uri))
