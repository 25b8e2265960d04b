"""tfxgate: declarative, gated TFX pipelines.

One distribution, one import package. The top-level folders `components/` and
`pipelines/` are mapped to `tfxgate.components` and `tfxgate.pipelines` so the repo
layout shows the architecture while nothing named `components` or `pipelines` is
ever published at the top level of site-packages.

Packages are discovered, never listed: a new subpackage cannot be left out of the
wheel (tests/test_wheel.py builds and installs it). Dependencies are pinned in
requirements/lock.txt and installed by scripts/install.sh (uv, --no-deps);
install_requires names every distribution tfxgate imports directly, with ranges the
lock satisfies (tests/test_wheel.py checks both against the built wheel's metadata).

The taxi example (config, curated schema, trainer module) ships as package data
under `tfxgate/examples/taxi/`, in the repo's own layout, so the config's relative
paths hold there too (`package://tfxgate/examples/taxi/...`); `tfxgate init DIR`
copies it out as a starter project. The generic tabular trainer ships the same
way (`tfxgate/examples/tabular/`), for `tfxgate init DIR --csv FILE`.
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

# The taxi example a wheel user starts from (`tfxgate init`): tfxgate/examples/taxi/
# holds links to the repo's configs/taxi.yaml, schemas/taxi/ and trainers/taxi/ in
# that same layout; the wheel gets the files themselves. The trainer module stays
# alone in its folder: TFX's Trainer packages every .py beside it.
# tfxgate/examples/tabular/ links to trainers/tabular/: the generic trainer that
# `tfxgate init DIR --csv FILE` copies into a project for the user's own data.
PACKAGE_DATA = {"tfxgate": ["examples/taxi/**/*", "examples/tabular/**/*"]}

# Every distribution the code imports directly (tests/test_wheel.py derives the set
# from the imports). Ranges follow requirements/requirements.in where it caps a
# package, else the series the lock pins.
INSTALL_REQUIRES = [
    "tfx[kfp]==1.16.0",
    "ml-pipelines-sdk==1.16.0",  # the tfx.dsl / tfx.orchestration / tfx.types half of `tfx`
    "ml-metadata>=1.16,<1.17",
    "tensorflow>=2.16,<2.17",
    "tf-keras>=2.16,<2.17",  # tfxgate sets TF_USE_LEGACY_KERAS=1: TFX and TFMA need Keras 2
    "tensorflow-data-validation>=1.16,<1.17",
    "tensorflow-model-analysis>=0.47,<0.48",
    "tensorflow-metadata>=1.16,<1.17",
    "tfx-bsl>=1.16,<1.17",
    "apache-beam>=2.53,<2.60",
    "kfp>=2.7,<2.14",
    "kfp-pipeline-spec>=0.3,<0.7",  # the Kubeflow V2 ExecutorInput/Output protos (Ingest's driver on Kubeflow)
    "protobuf>=4.25.2,<5",  # the upb backend; kfp and kfp-pipeline-spec cap it below 5
    "pyarrow>=10,<11",
    "numpy>=1.22,<2",
    "pandas>=1.5,<2",
    "scipy>=1.10,<2",
    "absl-py>=1,<2",
    "pydantic>=2.7,<3",
    "pydantic-core>=2.14,<3",
    "pyyaml>=6,<7",
    "pymysql>=1.1,<2",
    "ipython>=7.34,<8",  # notebook display in tfxgate.pipelines.interactive
    "google-cloud-storage>=2.14,<3",  # gs:// in tfxgate.storage.filesystem (also what Beam's gcsio uses)
    "boto3>=1.34,<2",  # s3:// in tfxgate.storage.filesystem
    "tensorflow-serving-api>=2.16,<2.17",  # ModelServerConfig in tfxgate.governance.serving_configs
    "botocore>=1.34,<2",
    "tensorflow-transform>=1.16,<1.17",  # the transform graph in DataDrift's transformed-skew check
    "keras-tuner>=1.4,<1.5",  # the Tuner stage's search (tfxgate.tuning)
    "grpcio>=1.48,<2",  # readiness checks of `tfxgate beam-cluster` (Beam's job service and worker pools)
    "crcmod>=1.7,<2",  # the TFRecord checksums Ingest's Beam engine writes (components/ingest/beam_ingest.py)
]

setup(
    name="tfxgate",
    version="0.1.0",
    description="Declarative, gated TFX pipelines: validate, check drift, evaluate per slice, push with approval.",
    python_requires=">=3.10,<3.12",
    packages=PACKAGES,
    package_dir=PACKAGE_DIR,
    package_data=PACKAGE_DATA,
    install_requires=INSTALL_REQUIRES,
    entry_points={"console_scripts": ["tfxgate=tfxgate.cli.main:main"]},
)
