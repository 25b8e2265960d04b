"""A real MariaDB server for the MySQL metadata tests, private to one test session.

`MariaDB.start` uses a server already running when `TFXGATE_TEST_MYSQL` says
where (`mysql://admin:password@host:port`); otherwise it starts its own
`mariadbd` on loopback with a fresh datadir, socket and port under a tmp dir
(no systemd), installing Debian's `mariadb-server` with apt-get first if it is
missing and we are root. Each test database gets its own user and password and
is dropped at teardown. `ServerUnavailable` carries the reason a test is skipped.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pymysql


class ServerUnavailable(Exception):
    """No MySQL-compatible server could be used or started; the message says why."""


@dataclass
class Database:
    """One test database with its own user; the password lives in `env[password_env]`."""

    name: str
    user: str
    password: str
    host: str
    port: int
    password_env: str = "TFXGATE_TEST_MYSQL_PASSWORD"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, self.password_env: self.password}

    @property
    def metadata_address(self) -> str:
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.name}"

    @property
    def metadata_override(self) -> str:
        """The `--set` that points a config's metadata at this database."""
        return (
            f"metadata={{kind: mysql, host: '{self.host}', port: {self.port}, database: {self.name}, "
            f"user: {self.user}, password_env: {self.password_env}}}"
        )


@dataclass
class MariaDB:
    host: str
    port: int
    admin: dict
    workdir: Optional[Path] = None
    process: Optional[subprocess.Popen] = None
    mariadbd: Optional[str] = None
    databases: list[Database] = field(default_factory=list)

    @classmethod
    def start(cls, workdir: Path) -> MariaDB:
        url = os.environ.get("TFXGATE_TEST_MYSQL")
        if url:
            parts = urllib.parse.urlsplit(url)
            admin = {"user": parts.username, "password": parts.password or "", "host": parts.hostname}
            server = cls(parts.hostname, parts.port or 3306, {**admin, "port": parts.port or 3306})
            server.version()
            return server
        mariadbd = _binary("mariadbd") or _install_and_find()
        server = cls("127.0.0.1", _free_port(), {"unix_socket": str(workdir / "mysqld.sock"), "user": "root"})
        server.workdir = workdir
        init = subprocess.run(
            [
                _binary("mariadb-install-db") or "mysql_install_db",
                "--no-defaults",
                f"--datadir={workdir / 'data'}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--user=root",
            ],
            capture_output=True,
            text=True,
        )
        if init.returncode != 0:
            raise ServerUnavailable(f"mariadb-install-db failed: {init.stderr[-500:]}")
        server.mariadbd = mariadbd
        server.resume()
        return server

    def resume(self) -> None:
        """Starts (or restarts) the private server on the same datadir and port."""
        assert self.workdir is not None, "cannot restart a server this session did not start"
        log = (self.workdir / "mariadbd.log").open("a")
        self.process = subprocess.Popen(
            [
                self.mariadbd,
                "--no-defaults",
                f"--datadir={self.workdir / 'data'}",
                f"--socket={self.workdir / 'mysqld.sock'}",
                f"--pid-file={self.workdir / 'mariadbd.pid'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--user=root",
                "--innodb-buffer-pool-size=64M",
                "--max-connections=200",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerUnavailable(f"mariadbd exited: {(self.workdir / 'mariadbd.log').read_text()[-800:]}")
            try:
                self.version()
                return
            except pymysql.err.MySQLError:
                time.sleep(0.3)
        raise ServerUnavailable("mariadbd did not accept connections within 60 s")

    def kill(self) -> None:
        """Stops the private server abruptly (SIGKILL), like a crash."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def version(self) -> str:
        with self._admin() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            return cursor.fetchone()[0]

    def create_database(self, name: str) -> Database:
        database = Database(name, f"u_{name}"[:32], secrets.token_urlsafe(16), self.host, self.port)
        with self._admin() as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")
            cursor.execute(f"CREATE USER '{database.user}'@'%%' IDENTIFIED BY %s", (database.password,))
            cursor.execute(f"GRANT ALL ON `{name}`.* TO '{database.user}'@'%'")
        self.databases.append(database)
        return database

    def query(self, sql: str, *, database: str) -> list[tuple]:
        with self._admin(database=database) as connection, connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())

    def stop(self) -> None:
        """Drops what the session created; stops the server if the session started it."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
            return  # the datadir goes with the tmp dir
        with self._admin() as connection, connection.cursor() as cursor:
            for database in self.databases:
                cursor.execute(f"DROP DATABASE IF EXISTS `{database.name}`")
                cursor.execute(f"DROP USER IF EXISTS '{database.user}'@'%'")

    def _admin(self, **kwargs) -> pymysql.Connection:
        return pymysql.connect(**self.admin, connect_timeout=5, autocommit=True, **kwargs)


def _binary(name: str) -> Optional[str]:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


def _install_and_find() -> str:
    """Installs Debian's mariadb-server (non-interactive, without starting a service)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ServerUnavailable("mariadbd is not installed and apt-get cannot install it (not root or not Debian)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "--no-install-recommends", "mariadb-server"]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, env=env)
        done = subprocess.run(command, capture_output=True, text=True, env=env)
    found = _binary("mariadbd")
    if found is None:
        raise ServerUnavailable(f"apt-get install mariadb-server failed: {done.stderr[-500:]}")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
