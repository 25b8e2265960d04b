"""The built wheel is what a user installs: test it, not only the editable checkout.

The wheel is built from a clean copy of the repo (the files git would check out).
Fast tests read it: every package folder of the source tree is in it, the taxi
example ships beside the code, and its requirements name every distribution the
code imports, within ranges the lock satisfies. The e2e test installs it with the
lock into a fresh venv outside the checkout and runs the demo from there.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests import tabular_csv
from tests.conftest import REPO

# Source folder -> where setup.py puts it in the wheel.
WHEEL_FOLDERS = {"tfxgate": "tfxgate", "components": "tfxgate/components", "pipelines": "tfxgate/pipelines"}
EXAMPLE = {  # the taxi example and the tabular trainer (`init --csv`): path in the wheel -> the repo file it ships
    "tfxgate/examples/taxi/configs/taxi.yaml": "configs/taxi.yaml",
    "tfxgate/examples/taxi/schemas/taxi/schema.pbtxt": "schemas/taxi/schema.pbtxt",
    "tfxgate/examples/taxi/trainers/taxi/trainer.py": "trainers/taxi/trainer.py",
    "tfxgate/examples/tabular/trainers/tabular/trainer.py": "trainers/tabular/trainer.py",
}
EXAMPLE_TABULAR = "trainers/tabular/trainer.py"
IMPORTING_FOLDERS = (*WHEEL_FOLDERS, "trainers")  # the trainer module ships too
# Kept short: the Trainer's cost is mostly fixed (graph building), and the model still
# passes the demo's gates at 50 steps, so it is pushed.
DEMO_OVERRIDES = ("stages.trainer.train_steps=50", "stages.trainer.eval_steps=20")


def _repo_files() -> list[str]:
    """What a fresh clone of this working tree holds: tracked and new files, nothing ignored."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(name for name in out.split("\0") if name and os.path.lexists(REPO / name))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("clean-copy")
    for name in _repo_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name, follow_symlinks=False)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(dist)],
        cwd=source,
        check=True,
    )
    (built,) = dist.glob("tfxgate-*.whl")
    return built


def _names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _requires(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(name).decode()
    return [Requirement(line.split(":", 1)[1]) for line in text.splitlines() if line.startswith("Requires-Dist:")]


def test_wheel_holds_every_package_of_the_source_tree_and_nothing_else_at_top_level(wheel):
    expected = {
        name.replace(folder, WHEEL_FOLDERS[folder], 1)
        for name in _repo_files()
        for folder in WHEEL_FOLDERS
        if name.startswith(f"{folder}/") and name.endswith("__init__.py")
    }
    names = _names(wheel)
    assert {name for name in names if name.endswith("__init__.py")} == expected
    assert {name.split("/")[0] for name in names} == {"tfxgate", "tfxgate-0.1.0.dist-info"}


def test_wheel_ships_the_taxi_example_with_the_trainer_alone_in_its_folder(wheel):
    with zipfile.ZipFile(wheel) as archive:
        for inside, source in EXAMPLE.items():
            assert archive.read(inside) == (REPO / source).read_bytes(), inside
    examples = {name for name in _names(wheel) if name.startswith("tfxgate/examples/")}
    assert examples == set(EXAMPLE)  # so no other .py sits beside the trainer module


@functools.cache
def _distribution_files(dist: str) -> frozenset[str]:
    return frozenset(path.as_posix() for path in metadata.distribution(dist).files or ())


@functools.cache
def _top_level_distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def _owners(module: str) -> set[str]:
    """The installed distributions whose files hold `module` (or, for `from a import f`, its nearest module).

    Precise where several distributions share a top-level name (`google.protobuf` is
    protobuf's, `tfx.dsl` ml-pipelines-sdk's, `tfx.components` tfx's).
    """
    candidates = _top_level_distributions().get(module.split(".")[0], [])
    parts = module.split(".")
    while parts:
        stem = "/".join(parts)
        owners = {
            canonicalize_name(dist)
            for dist in candidates
            if any(
                name == f"{stem}/__init__.py" or (name.startswith(f"{stem}.") and name.endswith((".py", ".so")))
                for name in _distribution_files(dist)
            )
        }
        if owners:
            return owners
        parts.pop()
    return set()


def _direct_imports() -> dict[str, str]:
    """Absolute imports of third-party modules in the shipped code -> one file that makes it."""
    found = {}
    for folder in IMPORTING_FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules = [f"{node.module}.{alias.name}" for alias in node.names]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in ("tfxgate", "__future__"):
                        found.setdefault(module, str(path.relative_to(REPO)))
    return found


def test_requirements_name_every_distribution_the_code_imports(wheel):
    required = {canonicalize_name(requirement.name) for requirement in _requires(wheel)}
    imports = _direct_imports()
    assert "tensorflow_model_analysis" in {module.split(".")[0] for module in imports}  # the scan sees imports
    unowned = sorted(module for module in imports if not _owners(module))
    assert not unowned, f"imported but installed by no distribution: {unowned}"
    missing: dict[str, list[str]] = {}
    for module, path in sorted(imports.items()):
        if not _owners(module) & required:
            missing.setdefault(" or ".join(sorted(_owners(module))), []).append(f"{module} ({path})")
    assert not missing, "install_requires (setup.py) lacks:\n" + "\n".join(
        f"  {dist}, imported as {', '.join(modules[:3])}" for dist, modules in missing.items()
    )


def test_requirements_accept_the_locked_versions(wheel):
    locked = {}
    for line in (REPO / "requirements" / "lock.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("#")[0].split(";")[0].strip().split("==")
            locked[canonicalize_name(name)] = version
    for requirement in _requires(wheel):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is not in requirements/lock.txt"
        assert requirement.specifier.contains(locked[name], prereleases=True), f"{requirement} vs lock {locked[name]}"


IMPORT_EVERY_MODULE = """
import importlib, importlib.util, json, pkgutil, sys
import tfxgate
modules = [info.name for info in pkgutil.walk_packages(tfxgate.__path__, "tfxgate.")]
for name in modules:
    importlib.import_module(name)
print(json.dumps({
    "file": tfxgate.__file__,
    "modules": modules,
    "top_level": [name for name in ("components", "pipelines") if importlib.util.find_spec(name)],
    "path": sys.path,
}))
"""


def _run(command: list, *, cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{command}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.e2e
def test_wheel_runs_the_demo_from_a_fresh_venv_outside_the_checkout(wheel, tmp_path):
    venv, work = tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", UV_PYTHON_DOWNLOADS="never")
    python, tfxgate = venv / "bin" / "python", venv / "bin" / "tfxgate"
    uv = [Path(sys.executable).parent / "uv", "pip", "install", "--quiet", "--python", python, "--no-deps"]
    # Installed the way scripts/install.sh installs the stack, then the wheel alone.
    _run(["python3.11", "-m", "venv", venv], cwd=work, env=env)
    _run([*uv, "-r", REPO / "requirements" / "lock.txt"], cwd=work, env=env)
    _run([*uv, wheel], cwd=work, env=env)
    _run([python, "-m", "pip", "check"], cwd=work, env=env)  # install_requires hold against the lock

    imported = json.loads(_run([python, "-c", IMPORT_EVERY_MODULE], cwd=work, env=env).stdout.splitlines()[-1])
    assert Path(imported["file"]).is_relative_to(venv)
    assert not any(entry.startswith(str(REPO)) for entry in imported["path"])
    modules = {
        name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for name in _names(wheel)
        if name.endswith(".py") and not name.startswith("tfxgate/examples/")
    }
    assert set(imported["modules"]) == modules - {"tfxgate"}
    assert imported["top_level"] == []  # nothing named `components` or `pipelines` is installed

    project = work / "taxi-project"
    assert "run it with: tfxgate run" in _run([tfxgate, "init", project], cwd=work, env=env).stdout
    config = project / "configs" / "taxi.yaml"
    assert "OK (pipeline 'taxi'" in _run([tfxgate, "check", config], cwd=work, env=env).stdout
    packaged = work / "packaged.yaml"  # the shipped schema and trainer, named by package://
    packaged.write_text(
        config.read_text()
        .replace("../schemas/taxi/", "package://tfxgate/examples/taxi/schemas/taxi/")
        .replace("../trainers/taxi/", "package://tfxgate/examples/taxi/trainers/taxi/")
    )
    assert packaged.read_text().count("package://tfxgate/examples/taxi/") == 2
    assert "OK (pipeline 'taxi'" in _run([tfxgate, "check", packaged], cwd=work, env=env).stdout
    csv = tabular_csv.churn(work / "churn.csv")  # `init --csv` copies the shipped tabular trainer
    own = _run([tfxgate, "init", "churn-project", "--csv", csv, "--label", "churned"], cwd=work, env=env)
    assert own.stdout.splitlines()[-1] == "run it with: tfxgate run churn-project/configs/churn.yaml"
    assert (work / "churn-project/trainers/churn/trainer.py").read_bytes() == (REPO / EXAMPLE_TABULAR).read_bytes()
    assert (
        "OK (pipeline 'churn'" in _run([tfxgate, "check", "churn-project/configs/churn.yaml"], cwd=work, env=env).stdout
    )

    sets = [item for override in DEMO_OVERRIDES for item in ("--set", override)]
    demo = _run([tfxgate, "run", config, *sets], cwd=work, env=env, timeout=600)
    assert "of pipeline 'taxi': SUCCEEDED" in demo.stdout
    assert (project / "serving" / "taxi" / "staging" / "1" / "saved_model.pb").is_file()
    history = json.loads(_run([tfxgate, "history", config, "--json"], cwd=work, env=env).stdout)
    assert [(h["kind"], h["destination"], h["version"], h["current"]) for h in history] == [
        ("push", "staging", "1", True),
        ("pending", "production", "", False),  # production waits for `tfxgate approve`
    ]
