"""The one way tfxgate connects to ML Metadata, embedded (SQLite) or on a server (MySQL).

The builder (`build.py`) hands `connection_config` to TFX, the run summary and
the tests open the store with `open_store`, and `tfxgate metadata check` uses
`inspect` / `prepare`. The rules live here once:

- The MySQL password comes from the environment variable `password_env` names,
  read at connection time; it is never printed: every message names the store
  by `address` (`mysql://user@host:port/db`) and server errors are scrubbed.
- MLMD creates its tables on first connect and can migrate an older schema.
  On a server that must never happen behind a user's back: `open_store` refuses
  a store whose schema is missing or older than this MLMD's, and only
  `prepare(..., upgrade=True)` (`tfxgate metadata check --upgrade`) creates or
  upgrades it. The embedded SQLite file is private to one pipeline root, so a
  run creates it as stock TFX does.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

from tfxgate.mlmd.settings import MysqlMetadata, SqliteMetadata
from tfxgate.storage import file_lock

Metadata = Union[SqliteMetadata, MysqlMetadata]

__all__ = [
    "EXECUTION_STATES",
    "MetadataError",
    "StoreStatus",
    "address",
    "connection_config",
    "exclusive_use",
    "inspect",
    "open_store",
    "prepare",
]


# An execution's `last_known_state` in the words runs and reports print.
EXECUTION_STATES = {
    metadata_store_pb2.Execution.COMPLETE: "complete",
    metadata_store_pb2.Execution.CACHED: "cached",
    metadata_store_pb2.Execution.FAILED: "failed",
    metadata_store_pb2.Execution.CANCELED: "canceled",
    metadata_store_pb2.Execution.RUNNING: "running",
    metadata_store_pb2.Execution.NEW: "new",
}


class MetadataError(Exception):
    """The store cannot be used as configured; the message says why and what to do.

    `needs_upgrade`: the fix is `tfxgate metadata check CONFIG --upgrade`; the
    CLI, which knows the config and its options, prints that command exactly
    (`cli/console.metadata_problem`), in place of the general hint here.
    """

    def __init__(self, problem: str, *, needs_upgrade: bool = False):
        self.problem = problem
        self.needs_upgrade = needs_upgrade
        super().__init__(f"{problem}; {UPGRADE_HINT}" if needs_upgrade else problem)


# Where the store layer does not know the config: a command that works as printed and leads to the fix.
UPGRADE_HINT = "the schema is created or upgraded only on request (see `tfxgate metadata check --help`)"


@dataclass(frozen=True)
class StoreStatus:
    """What `tfxgate metadata check` reports."""

    address: str
    server_version: str
    schema_version: Optional[int]  # None: no MLMD schema yet
    library_schema_version: int

    @property
    def ready(self) -> bool:
        return self.schema_version == self.library_schema_version


def address(section: Metadata, *, root: Path) -> str:
    """Where the store is, fit for logs: a file path or `mysql://user@host:port/db`."""
    if isinstance(section, MysqlMetadata):
        return section.address
    return str(sqlite_path(section, root=root))


def sqlite_path(section: SqliteMetadata, *, root: Path) -> Path:
    path = Path(section.path)
    return path if path.is_absolute() else root / path


def connection_config(section: Metadata, *, root: Path, read_only: bool = False) -> metadata_store_pb2.ConnectionConfig:
    """The MLMD connection config (with the password from the environment, for MySQL)."""
    config = metadata_store_pb2.ConnectionConfig()
    if isinstance(section, SqliteMetadata):
        config.sqlite.filename_uri = str(sqlite_path(section, root=root))
        config.sqlite.connection_mode = (
            metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
            if read_only
            else metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        )
        return config
    mysql = config.mysql
    mysql.host, mysql.port, mysql.database, mysql.user = section.host, section.port, section.database, section.user
    password = _password(section)
    if password:
        mysql.password = password
    if section.ssl is not None:
        for key in ("ca", "capath", "cert", "key", "cipher"):
            value = getattr(section.ssl, key)
            if value is not None:
                setattr(mysql.ssl_options, key, str(value))
        mysql.ssl_options.verify_server_cert = section.ssl.verify_server_cert
    return config


@contextlib.contextmanager
def exclusive_use(
    section: Metadata, *, root: Path, waiting: Callable[[str], None], wait: bool = True
) -> Iterator[None]:
    """Serialises runs that share one SQLite file; a server store needs no such lock.

    SQLite takes one writer at a time and MLMD does not wait for its lock, so
    concurrent runs on one file would fail at random stages with `database is
    locked`. An advisory lock on `<file>.lock` makes them queue instead; the
    lock dies with its process, so a killed run never blocks the next one.
    With `wait` False, `storage.LockHeld` is raised at once instead of queueing.
    """
    if not isinstance(section, SqliteMetadata):
        yield
        return
    path = sqlite_path(section, root=root)

    def held(holder: str) -> None:
        waiting(f"waiting for another run using {path} (SQLite takes one run at a time; held by {holder})")

    with file_lock(Path(f"{path}.lock"), on_held=held if wait else None, wait=wait):
        yield


def open_store(section: Metadata, *, root: Path, read_only: bool = False) -> mlmd.MetadataStore:
    """An MLMD store whose schema is this library's; never creates or migrates a server's schema.

    Raises:
      MetadataError: the server is unreachable, refuses the login, or its MLMD
        schema is missing, older or newer (with the command that fixes it).
    """
    if isinstance(section, MysqlMetadata):
        status = inspect(section, root=root)
        if not status.ready:
            raise _not_ready(status)
    return _connect(section, root=root, read_only=read_only)


def inspect(section: Metadata, *, root: Path) -> StoreStatus:
    """Server version and MLMD schema version, read without changing anything."""
    library = library_schema_version()
    if isinstance(section, SqliteMetadata):
        path = sqlite_path(section, root=root)
        schema = _sqlite_schema_version(path) if path.exists() else None
        return StoreStatus(str(path), f"SQLite {sqlite3.sqlite_version} (embedded)", schema, library)
    import pymysql  # only a MySQL store needs it

    try:
        connection = pymysql.connect(
            host=section.host,
            port=section.port,
            user=section.user,
            password=_password(section),
            ssl=_pymysql_ssl(section),
            connect_timeout=10,
        )
    except pymysql.err.MySQLError as err:
        raise MetadataError(f"cannot connect to ML Metadata at {section.address}: {_scrub(err, section)}") from None
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        [server] = cursor.fetchone()
        try:
            cursor.execute(f"SELECT schema_version FROM `{section.database}`.MLMDEnv")
            row = cursor.fetchone()
            schema = int(row[0]) if row else None
        except pymysql.err.MySQLError as err:
            if err.args[0] not in (1049, 1146):  # unknown database, no such table: no schema yet
                why = _scrub(err, section)
                raise MetadataError(f"cannot read the MLMD schema at {section.address}: {why}") from None
            schema = None
    return StoreStatus(section.address, server, schema, library)


def prepare(section: Metadata, *, root: Path, upgrade: bool) -> StoreStatus:
    """Inspects the store and, only when `upgrade`, creates or migrates its MLMD schema.

    Returns the status after any change. Raises MetadataError for a schema newer
    than this MLMD (never downgraded here) or when the store cannot be reached.
    """
    status = inspect(section, root=root)
    if status.schema_version is not None and status.schema_version > status.library_schema_version:
        raise _not_ready(status)
    if upgrade and not status.ready:
        if isinstance(section, SqliteMetadata):
            sqlite_path(section, root=root).parent.mkdir(parents=True, exist_ok=True)
        _connect(section, root=root, enable_upgrade_migration=True)
        status = inspect(section, root=root)
    return status


def _connect(section: Metadata, *, root: Path, read_only: bool = False, **kwargs) -> mlmd.MetadataStore:
    config = connection_config(section, root=root, read_only=read_only)
    try:
        return mlmd.MetadataStore(config, **kwargs)
    except mlmd.errors.MetadataStoreError as err:
        where = address(section, root=root)
        raise MetadataError(f"cannot open ML Metadata at {where}: {_scrub(err, section)}") from None


def _not_ready(status: StoreStatus) -> MetadataError:
    if status.schema_version is None:
        problem = "has no ML Metadata schema yet"
    elif status.schema_version < status.library_schema_version:
        problem = (
            f"has ML Metadata schema v{status.schema_version}, older than this MLMD's v{status.library_schema_version}"
        )
    else:
        return MetadataError(
            f"{status.address} has ML Metadata schema v{status.schema_version}, newer than this MLMD's "
            f"v{status.library_schema_version}: use the ml-metadata release that wrote it"
        )
    return MetadataError(f"{status.address} {problem}", needs_upgrade=True)


def _password(section: MysqlMetadata) -> Optional[str]:
    if section.password_env is None:
        return None
    password = os.environ.get(section.password_env)
    if password is None:
        raise MetadataError(
            f"metadata.password_env: environment variable {section.password_env} is not set "
            f"(it holds the password of {section.address})"
        )
    return password


def _pymysql_ssl(section: MysqlMetadata) -> Optional[dict]:
    if section.ssl is None:
        return None
    given = {key: getattr(section.ssl, key) for key in ("ca", "capath", "cert", "key", "cipher")}
    ssl = {key: str(value) for key, value in given.items() if value is not None}
    return {**ssl, "check_hostname": section.ssl.verify_server_cert}


def _scrub(err: BaseException, section: Metadata) -> str:
    """The error's text with the password (if it ever appears) masked."""
    text = str(err)
    if isinstance(section, MysqlMetadata) and section.password_env:
        password = os.environ.get(section.password_env)
        if password:
            text = text.replace(password, "***")
    return text


def _sqlite_schema_version(path: Path) -> Optional[int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        try:
            row = connection.execute("SELECT schema_version FROM MLMDEnv").fetchone()
        except sqlite3.OperationalError:  # a file without MLMD tables
            return None
    return int(row[0]) if row else None


@functools.lru_cache(maxsize=1)
def library_schema_version() -> int:
    """The schema version this ml-metadata writes (MLMD exposes it only inside a store)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "probe.sqlite"
        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = str(path)
        mlmd.MetadataStore(config)
        version = _sqlite_schema_version(path)
    assert version is not None, "ml-metadata created a store without MLMDEnv"
    return version
