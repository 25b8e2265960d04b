"""tfxgate: declarative, gated TFX pipelines.

One distribution, one import package. The top-level folders `components/` and
`pipelines/` are mapped to `tfxgate.components` and `tfxgate.pipelines` so the repo
layout shows the architecture while nothing named `components` or `pipelines` is
ever published at the top level of site-packages.

Packages are discovered, never listed: a new subpackage cannot be left out of the
wheel (tests/test_wheel.py builds and installs it). Dependencies are pinned in
requirements/lock.txt and installed by scripts/install.sh (uv, --no-deps);
install_requires names every package tfxgate imports directly, so `pip install .`
into an already-provisioned environment does not re-resolve TFX.
"""

from setuptools import find_packages, setup

# Import package -> source folder. The core library lives in tfxgate/ itself.
FOLDERS = {"tfxgate": "tfxgate", "tfxgate.components": "components", "tfxgate.pipelines": "pipelines"}


def _discover() -> tuple[list[str], dict[str, str]]:
    packages = []
    for name, folder in FOLDERS.items():
        packages += [name] + [f"{name}.{sub}" for sub in find_packages(folder)]
    return packages, dict(FOLDERS)


PACKAGES, PACKAGE_DIR = _discover()

setup(
    name="tfxgate",
    version="0.1.0",
    description="Declarative, gated TFX pipelines: validate, check drift, evaluate per slice, push with approval.",
    python_requires=">=3.10,<3.12",
    packages=PACKAGES,
    package_dir=PACKAGE_DIR,
    install_requires=[
        "tfx==1.16.0",
        "pydantic>=2.7,<3",
        "pyyaml>=6",
    ],
    entry_points={"console_scripts": ["tfxgate=tfxgate.cli.main:main"]},
)
