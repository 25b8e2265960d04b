"""The Dockerfile builds "the image" the Kubeflow harness stands in for (no Docker engine here).

tests/test_kubeflow_harness.py runs the compiled spec in `wheel_venv` (tests/conftest.py):
the lock installed with --no-deps, then the wheel, then `pip check`, with the
Dockerfile's ENV. These checks hold the Dockerfile to that same recipe, to the
Python and uv versions the lock and scripts/install.sh are made for, and to the
default image name compile and submit use.
"""

from __future__ import annotations

import re
import sys

from tests.conftest import REPO, dockerfile_env

DOCKERFILE = (REPO / "Dockerfile").read_text()
RUN = [
    " ".join(line.strip() for line in block.splitlines())
    for block in re.findall(r"^RUN (.*?)(?<!\\)$", DOCKERFILE, re.M | re.S)
]


def _locked(name: str) -> str:
    [line] = [
        line for line in (REPO / "requirements" / "lock.txt").read_text().splitlines() if line.startswith(f"{name}==")
    ]
    return line.split("==")[1].split()[0]


def test_base_image_is_the_python_the_lock_is_installed_with():
    [base] = re.findall(r"^ARG PYTHON_IMAGE=python:(\d+\.\d+)-slim-bookworm$", DOCKERFILE, re.M)
    assert base == f"{sys.version_info.major}.{sys.version_info.minor}"


def test_installs_the_lock_then_the_wheel_without_resolving_then_checks():
    installs = " && ".join(RUN)
    lock = installs.index("uv pip install --system --no-cache --no-deps -r /tmp/lock.txt")
    wheel = installs.index("uv pip install --system --no-cache --no-deps /tmp/dist/tfxgate-*.whl")
    check = installs.index("python -m pip check")
    assert lock < wheel < check
    assert "COPY requirements/lock.txt /tmp/lock.txt" in DOCKERFILE
    assert f'"setuptools=={_locked("setuptools")}"' in installs  # the wheel is built with the locked setuptools
    assert "pip wheel . --no-deps --no-build-isolation" in installs  # as tests/conftest.py builds it


def test_uv_and_environment_match_the_local_install():
    [uv] = re.findall(r"^ARG UV_VERSION=(\S+)$", DOCKERFILE, re.M)
    [local] = re.findall(r"^UV_VERSION=(\S+)$", (REPO / "scripts" / "install.sh").read_text(), re.M)
    assert uv == local
    assert dockerfile_env()["TF_USE_LEGACY_KERAS"] == "1"


def test_copied_paths_exist_and_are_in_the_build_context():
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line and line[0] != "#"}
    for source in re.findall(r"^COPY (?!--from)(\S+) ", DOCKERFILE, re.M):
        assert (REPO / source).exists(), source
        assert source.split("/")[0] not in ignored, source
    assert {".venv", ".git", "runs", "serving"} <= ignored


def test_default_image_is_the_one_the_readme_builds():
    import tfxgate
    from tfxgate.pipelines.kubeflow.settings import DEFAULT_IMAGE, lacks_tfxgate

    assert DEFAULT_IMAGE == f"tfxgate:{tfxgate.__version__}"
    readme = (REPO / "README.md").read_text()
    assert f"docker build -t {DEFAULT_IMAGE} ." in readme and "docker push" in readme
    assert not lacks_tfxgate(DEFAULT_IMAGE) and lacks_tfxgate("gcr.io/tfx-oss-public/tfx:1.16.0")
