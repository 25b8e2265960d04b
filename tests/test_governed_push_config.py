"""`stages.push`: destinations stay inside the push root; approval and credentials keys are checked at load."""

from __future__ import annotations

import pytest

from tests.test_config import MINIMAL, problems, write_config
from tfxgate.pipelines.config.root import load_config

BASE = MINIMAL.replace("  push:\n    root: serving\n", "")


def push(text: str) -> str:
    return BASE + "  push:\n    root: serving\n    destinations:\n" + text


def test_destinations_resolve_under_the_push_root(tmp_path):
    config = load_config(
        write_config(
            tmp_path,
            push(
                "      staging: {path: staging}\n"
                "      production: {path: prod/main, approval: manual, credentials_env: PROD_TOKEN}\n"
            ),
        )
    )
    stage = config.stages.push
    assert stage.destination_dir("staging") == tmp_path / "serving" / "staging"
    assert stage.destination_dir("production") == tmp_path / "serving" / "prod" / "main"
    assert stage.destinations["staging"].approval == "auto"
    assert stage.destinations["production"].credentials_env == "PROD_TOKEN"


def test_default_is_one_auto_destination_at_the_root(tmp_path):
    stage = load_config(write_config(tmp_path, MINIMAL)).stages.push
    assert list(stage.destinations) == ["serving"] and stage.destination_dir("serving") == tmp_path / "serving"


def test_parent_directory_is_refused_with_key_and_line(tmp_path):
    path = write_config(tmp_path, push("      prod: {path: ../outside}\n"))
    [(key, line, message)] = problems(path)
    assert key == "stages.push.destinations.prod.path" and line == 15
    assert "'../outside' contains '..': a destination must stay inside the push root" in message


def test_absolute_path_outside_the_root_is_refused(tmp_path):
    path = write_config(tmp_path, push("      prod: {path: /etc/models}\n"))
    [(key, line, message)] = problems(path)
    assert key == "stages.push.destinations.prod.path" and line == 15
    assert message == f"/etc/models is an absolute path outside the push root {tmp_path / 'serving'}"


def test_absolute_path_inside_the_root_is_accepted(tmp_path):
    inside = tmp_path / "serving" / "prod"
    config = load_config(write_config(tmp_path, push(f"      prod: {{path: {inside}}}\n")))
    assert config.stages.push.destination_dir("prod") == inside


def test_symlink_escaping_the_root_is_refused(tmp_path):
    (tmp_path / "serving").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "serving" / "prod").symlink_to(tmp_path / "elsewhere")
    [(key, _, message)] = problems(write_config(tmp_path, push("      prod: {path: prod}\n")))
    assert key == "stages.push.destinations.prod.path"
    assert f"resolves (through a symlink) to {tmp_path / 'elsewhere'}, outside the push root" in message


def test_two_destinations_in_one_directory_are_refused(tmp_path):
    found = problems(write_config(tmp_path, push("      a: {path: x}\n      b: {path: ./x}\n")))
    assert [(k, m.split(":")[0]) for k, _, m in found] == [
        ("stages.push.destinations.b.path", "same directory as destination 'a'")
    ]


@pytest.mark.parametrize(
    ("entry", "key", "expected"),
    [
        ("prod: {path: p, approval: sometimes}", "stages.push.destinations.prod.approval", "'auto' or 'manual'"),
        ("prod: {path: p, credentials_env: 'a value!'}", "stages.push.destinations.prod.credentials_env", "pattern"),
        ("prod: {path: p, password: hunter2}", "stages.push.destinations.prod.password", "unknown key"),
    ],
)
def test_bad_destination_keys_are_named(tmp_path, entry, key, expected):
    found = problems(write_config(tmp_path, push(f"      {entry}\n")))
    assert any(k == key and expected in m for k, _, m in found), found


def test_no_destination_is_refused(tmp_path):
    found = problems(write_config(tmp_path, BASE + "  push:\n    root: serving\n    destinations: {}\n"))
    assert [(k, m) for k, _, m in found] == [("stages.push.destinations", "name at least one destination")]


def test_taxi_config_stages_then_waits_for_approval():
    from tests.conftest import TAXI_CONFIG

    push = load_config(TAXI_CONFIG).stages.push
    assert {n: d.approval for n, d in push.destinations.items()} == {"staging": "auto", "production": "manual"}
