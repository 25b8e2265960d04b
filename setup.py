"""tfxgate: declarative, gated TFX pipelines.

One distribution, one import package. The top-level folders `components/` and
`pipelines/` are mapped to `tfxgate.components` and `tfxgate.pipelines` so the repo
layout shows the architecture while nothing named `components` or `pipelines` is
ever published at the top level of site-packages.

Dependencies are pinned in requirements/lock.txt and installed by
scripts/install.sh (uv, --no-deps); install_requires only names the direct ones
so `pip install .` into an already-provisioned environment does not re-resolve TFX.
"""

from setuptools import setup

setup(
    name="tfxgate",
    version="0.1.0",
    description="Declarative, gated TFX pipelines: validate, check drift, evaluate per slice, push with approval.",
    python_requires=">=3.10,<3.12",
    packages=[
        "tfxgate",
        "tfxgate.components",
        "tfxgate.components.drift",
        "tfxgate.components.validate",
        "tfxgate.components.ingest",
        "tfxgate.components.slice_eval",
        "tfxgate.pipelines",
        "tfxgate.pipelines.report",
    ],
    package_dir={
        "tfxgate": "tfxgate",
        "tfxgate.components": "components",
        "tfxgate.components.ingest": "components/ingest",
        "tfxgate.pipelines": "pipelines",
    },
    install_requires=[
        "tfx==1.16.0",
        "pydantic>=2.7,<3",
        "pyyaml>=6",
    ],
    entry_points={"console_scripts": ["tfxgate=tfxgate.pipelines.cli:main"]},
)
