"""The codebase stays ruff-clean (config in ruff.toml) and keeps its layers (.importlinter)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_ruff_check_passes():
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run([str(ruff), "check", str(REPO)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed_layout(tmp_path_factory) -> Path:
    """The package as it installs (setup.py's folder mapping), for lint-imports.

    In the editable checkout `tfxgate.components` and `tfxgate.pipelines` live outside
    `tfxgate/`, where grimp (which reads the files under the package's folder) would
    not see them.
    """
    layout = tmp_path_factory.mktemp("installed")
    subprocess.run(
        [sys.executable, "setup.py", "--quiet", "build_py", "--build-lib", str(layout)],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    return layout


def _lint_imports(layout: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).parent / "lint-imports"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {"PYTHONPATH": str(layout)}
    return subprocess.run(
        [str(lint), "--config", str(REPO / ".importlinter"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=layout,  # lint-imports puts the working directory first on sys.path
        env=env,
    )


def test_import_contracts_are_kept(installed_layout):
    result = _lint_imports(installed_layout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_import_contracts_catch_a_core_module_importing_pipelines(installed_layout, tmp_path):
    """The contracts see the whole package: an upward import breaks them."""
    layout = tmp_path / "layout"
    shutil.copytree(installed_layout, layout)
    with (layout / "tfxgate" / "mlmd" / "graph.py").open("a") as module:
        module.write("\nfrom tfxgate.pipelines import build  # noqa\n")
    result = _lint_imports(layout)
    assert result.returncode == 1
    assert "tfxgate.mlmd is not allowed to import tfxgate.pipelines" in result.stdout
    assert "Layers: cli -> pipelines -> components -> core (" in result.stdout
    assert ") BROKEN" in result.stdout.split("Layers: cli")[1].splitlines()[0]
    assert "The core library never imports components, pipelines or the CLI BROKEN" in result.stdout
