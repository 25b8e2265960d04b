"""`tfxgate init DIR` writes the shipped taxi example as a project that checks and runs.

tests/test_wheel.py runs the same from an installed wheel, end to end; these run
against the checkout, where `tfxgate/examples/taxi/` links to the repo's files.
"""

from __future__ import annotations

from tests.conftest import REPO, run_cli
from tfxgate.pipelines.config.root import load_config

SHIPPED = ("configs/taxi.yaml", "schemas/taxi/schema.pbtxt", "trainers/taxi/trainer.py")


def test_init_writes_a_starter_project_that_checks(tmp_path):
    project = tmp_path / "project"
    result = run_cli("init", str(project), root=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(str(path.relative_to(project)) for path in project.rglob("*") if path.is_file()) == list(SHIPPED)
    for name in SHIPPED:
        assert (project / name).read_bytes() == (REPO / name).read_bytes(), name
    assert f"run it with: tfxgate run {project / 'configs' / 'taxi.yaml'}" in result.stdout

    check = run_cli("check", str(project / "configs" / "taxi.yaml"), root=tmp_path)
    assert check.returncode == 0, check.stderr
    assert f"root {project / 'runs' / 'taxi'}" in check.stdout  # the runs stay inside the project


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path):
    trainer = tmp_path / "trainers" / "taxi" / "trainer.py"
    trainer.parent.mkdir(parents=True)
    trainer.write_text("# my own trainer\n")
    result = run_cli("init", str(tmp_path), root=tmp_path)
    assert result.returncode == 2
    assert f"already exists: {trainer}" in result.stderr
    assert trainer.read_text() == "# my own trainer\n"
    assert not (tmp_path / "configs").exists()


def test_config_can_name_the_shipped_schema_and_trainer_by_package_url(tmp_path):
    config = tmp_path / "taxi.yaml"
    config.write_text(
        (REPO / "configs" / "taxi.yaml")
        .read_text()
        .replace("../schemas/taxi/", "package://tfxgate/examples/taxi/schemas/taxi/")
        .replace("../trainers/taxi/", "package://tfxgate/examples/taxi/trainers/taxi/")
    )
    loaded = load_config(config)
    for path in (loaded.schema_file, loaded.stages.trainer.module_file):
        assert "tfxgate/examples/taxi" in str(path)
    assert loaded.schema_file.read_bytes() == (REPO / "schemas" / "taxi" / "schema.pbtxt").read_bytes()
    assert loaded.stages.trainer.module_file.read_bytes() == (REPO / "trainers" / "taxi" / "trainer.py").read_bytes()
