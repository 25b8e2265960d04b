# The tfxgate image for Kubeflow Pipelines (and Vertex AI Pipelines): the locked TFX
# stack, the tfxgate wheel and the trainer modules. Every task of a compiled pipeline
# runs in it (`kubeflow.image`, default tfxgate:<version>). Build from the repo root and
# push to a registry the cluster pulls from (README: Kubeflow Pipelines):
#
#   docker build -t europe-docker.pkg.dev/my-project/ml/tfxgate:0.1.0 .
#   docker push europe-docker.pkg.dev/my-project/ml/tfxgate:0.1.0
#
# then set kubeflow.image to that name (or pass `--image` to compile/submit).
# Installed exactly as tests/conftest.py's `wheel_venv` installs "the image" the Kubeflow
# harness runs the compiled spec in: the lock with --no-deps, then the wheel, then pip
# check; tests/test_image.py holds this file to that.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# The wheel, built from the source tree as tests/conftest.py builds it.
FROM ${PYTHON_IMAGE} AS wheel
WORKDIR /src
COPY . .
RUN pip install --no-cache-dir --disable-pip-version-check "setuptools==69.5.1" wheel \
 && pip wheel . --no-deps --no-build-isolation --quiet -w /dist

FROM ${PYTHON_IMAGE}
ARG UV_VERSION=0.13.9
# TFX and TFMA need Keras 2 on TF 2.16 (tfxgate sets it too, but TFX's entrypoint imports TF first).
ENV TF_USE_LEGACY_KERAS=1 UV_PYTHON_DOWNLOADS=never PYTHONUNBUFFERED=1
COPY requirements/lock.txt /tmp/lock.txt
# pip stays: the Trainer pip-installs the module wheel the compile packaged.
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}" \
 && uv pip install --system --no-cache --no-deps -r /tmp/lock.txt \
 && rm /tmp/lock.txt
COPY --from=wheel /dist/ /tmp/dist/
RUN uv pip install --system --no-cache --no-deps /tmp/dist/tfxgate-*.whl \
 && rm -r /tmp/dist \
 && python -m pip check \
 && tfxgate --version
# The repo's trainer modules, each alone in its folder (TFX packages every .py beside one).
COPY trainers/ /opt/tfxgate/trainers/
WORKDIR /opt/tfxgate
