"""The `metadata:` section and tfxgate/mlmd/store.py without a server: config errors, connection configs, SQLite."""

from __future__ import annotations

import pytest

from tests.conftest import TAXI_CONFIG, run_cli
from tfxgate.mlmd.store import MetadataError, connection_config
from tfxgate.pipelines.config.root import ConfigError, load_config

MYSQL = "metadata={kind: mysql, host: db.internal, port: 3307, database: mlmd, user: tfx, password_env: MLMD_PW}"


def test_sqlite_is_the_default_and_kind_may_be_left_out():
    assert load_config(TAXI_CONFIG, overrides=["metadata={path: other.sqlite}"]).metadata.kind == "sqlite"


def test_mysql_connection_takes_the_password_from_the_environment(monkeypatch, tmp_path):
    config = load_config(TAXI_CONFIG, overrides=[MYSQL])
    assert config.metadata.address == "mysql://tfx@db.internal:3307/mlmd"
    assert config.metadata_path is None
    monkeypatch.setenv("MLMD_PW", "s3cret")
    mysql = connection_config(config.metadata, root=tmp_path).mysql
    assert (mysql.host, mysql.port, mysql.database, mysql.user, mysql.password) == (
        "db.internal",
        3307,
        "mlmd",
        "tfx",
        "s3cret",
    )
    assert "s3cret" not in repr(config)


def test_unset_password_variable_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("MLMD_PW", raising=False)
    config = load_config(TAXI_CONFIG, overrides=[MYSQL])
    with pytest.raises(MetadataError, match="metadata.password_env: environment variable MLMD_PW is not set"):
        connection_config(config.metadata, root=tmp_path)


def test_mysql_ssl_options_reach_the_connection(tmp_path, monkeypatch):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("MLMD_PW", "x")
    config = load_config(TAXI_CONFIG, overrides=[MYSQL, f"metadata.ssl={{ca: {ca}, verify_server_cert: true}}"])
    ssl = connection_config(config.metadata, root=tmp_path).mysql.ssl_options
    assert ssl.ca == str(ca) and ssl.verify_server_cert


def test_mysql_errors_name_the_key_without_the_union_tag():
    with pytest.raises(ConfigError) as err:
        load_config(
            TAXI_CONFIG,
            overrides=["metadata={kind: mysql, host: h, port: 70000, database: 'my-db', user: u, password: pw}"],
        )
    message = str(err.value)
    assert "metadata.port" in message and "less than or equal to 65535" in message
    assert "metadata.database" in message and "'my-db'" in message
    assert "metadata.password" in message and "unknown key" in message
    assert "metadata.mysql" not in message


def test_unknown_metadata_kind_is_rejected():
    with pytest.raises(ConfigError, match=r"unknown metadata kind 'postgres' \(known: sqlite, mysql\)"):
        load_config(TAXI_CONFIG, overrides=["metadata={kind: postgres}"])


def test_metadata_check_on_sqlite_creates_the_file_only_with_upgrade(tmp_path):
    root = tmp_path / "root"
    args = ["metadata", "check", str(TAXI_CONFIG), "--set", f"pipeline.root={root}"]
    first = run_cli(*args, root=root)
    assert first.returncode == 1
    assert f"metadata store: {root / 'metadata.sqlite'} (sqlite)" in first.stdout
    assert "MLMD schema: none yet" in first.stdout
    assert not (root / "metadata.sqlite").exists()
    created = run_cli(*args, "--upgrade", root=root)
    assert created.returncode == 0 and "created schema: now v10" in created.stdout
    assert (root / "metadata.sqlite").exists()


def test_property_values_tfx_wraps_as_json_are_read_plain():
    """The Kubeflow V2 entrypoint stores an input artifact's metadata so: `bad_rows` 0 is {"__value__": 0.0}."""
    from tfx.types import standard_artifacts

    from tfxgate.mlmd.graph import value

    examples = standard_artifacts.Examples()
    examples.set_json_value_custom_property("bad_rows", 0)
    examples.set_json_value_custom_property("rows", {"train": 2})
    examples.set_int_custom_property("spanned", 1)
    assert value(examples.mlmd_artifact, "bad_rows") == 0
    assert value(examples.mlmd_artifact, "rows") == {"train": 2}
    assert value(examples.mlmd_artifact, "spanned") == 1


def test_every_command_a_store_without_schema_prints_works_as_printed(tmp_path):
    """The store layer names `tfxgate metadata check --help`; the CLI names the exact upgrade command, --root and
    --set included; both run as printed (here on SQLite, the only store a test without a server has)."""
    import re
    import shlex

    from tfxgate.cli.console import metadata_problem
    from tfxgate.mlmd.store import StoreStatus, _not_ready, library_schema_version

    root = tmp_path / "my root"
    status = StoreStatus("mysql://tfx@db:3306/mlmd", "MariaDB 10.11", None, library_schema_version())
    err = _not_ready(status)
    assert str(err) == (
        "mysql://tfx@db:3306/mlmd has no ML Metadata schema yet; the schema is created or upgraded only on request "
        "(see `tfxgate metadata check --help`)"
    )
    message = metadata_problem(err, config=TAXI_CONFIG, root=root, overrides=["metadata.path=m d.sqlite"])
    [command] = re.findall(r"`([^`]+)`", message)
    assert message == f"mysql://tfx@db:3306/mlmd has no ML Metadata schema yet: run `{command}` to create or upgrade it"
    assert command == shlex.join(
        ["tfxgate", "metadata", "check", str(TAXI_CONFIG), "--root", str(root), "--set", "metadata.path=m d.sqlite"]
        + ["--upgrade"]
    )
    for printed in (command, "tfxgate metadata check --help"):
        [_, *args] = shlex.split(printed)
        done = run_cli(*args, root=root)
        assert done.returncode == 0, done.stdout + done.stderr
    assert (root / "m d.sqlite").is_file()  # --root and --set took effect
    newer = StoreStatus("a", "b", library_schema_version() + 1, library_schema_version())
    assert not _not_ready(newer).needs_upgrade and "use the ml-metadata release that wrote it" in str(_not_ready(newer))
