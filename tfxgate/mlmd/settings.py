"""The `metadata:` section: where ML Metadata lives.

Two kinds, chosen by `kind` (a discriminated union, so an error names the key
of the kind the user wrote, e.g. `metadata.port`):

- `sqlite` (the embedded default): one file under the pipeline root.
- `mysql`: a MySQL-compatible server (MySQL, MariaDB) shared by many runs and
  machines. The password is never part of the YAML: `password_env` names the
  environment variable that holds it, read only when connecting.

This module imports nothing heavy; `tfxgate/mlmd/store.py` turns these models
into an MLMD connection.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from tfxgate.settings import ExistingFile, Section, by_kind

# A SQL identifier MLMD can create a database for without quoting surprises.
DATABASE_PATTERN = r"^[A-Za-z0-9_]{1,64}$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
KINDS = ("sqlite", "mysql")


class SqliteMetadata(Section):
    kind: Literal["sqlite"] = "sqlite"
    path: str = Field(default="metadata.sqlite", description="Relative paths are under pipeline.root.")


class MysqlSsl(Section):
    """TLS to the server; MLMD passes these to the MySQL client library."""

    ca: Optional[ExistingFile] = Field(default=None, description="CA certificate (PEM).")
    capath: Optional[str] = Field(default=None, description="Directory of CA certificates.")
    cert: Optional[ExistingFile] = Field(default=None, description="Client certificate (PEM).")
    key: Optional[ExistingFile] = Field(default=None, description="Client private key (PEM).")
    cipher: Optional[str] = None
    verify_server_cert: bool = False


class MysqlMetadata(Section):
    kind: Literal["mysql"]
    host: str = Field(min_length=1)
    port: int = Field(default=3306, ge=1, le=65535)
    database: str = Field(pattern=DATABASE_PATTERN, description="Created by MLMD if missing and allowed.")
    user: str = Field(min_length=1)
    password_env: Optional[str] = Field(
        default=None,
        pattern=ENV_NAME_PATTERN,
        description="Environment variable holding the password; omit for a password-less user.",
    )
    ssl: Optional[MysqlSsl] = None

    @property
    def address(self) -> str:
        """Where the store is, for messages: never includes the password."""
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.database}"


MetadataSection = by_kind({"sqlite": SqliteMetadata, "mysql": MysqlMetadata}, what="metadata", default="sqlite")
