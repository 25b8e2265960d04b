"""Submitting a compiled pipeline to Kubeflow Pipelines: one run, or a recurring run.

`tfxgate submit CONFIG --host URL` compiles the config (pipelines/kubeflow/compile.py)
and hands the spec to the `kfp` client, which speaks KFP's v2beta1 REST API:
it finds or creates the experiment, then creates a run (`POST /runs`) or, with
`--schedule CRON`, a recurring run (`POST /recurringruns`, one run at a time).

Authentication comes from the environment only, never from the YAML:
`KF_PIPELINES_TOKEN` (a bearer token) if set, else whatever the `kfp` client
finds itself (kube config, in-cluster service account, IAP client ids from
`KF_PIPELINES_*` variables). The host is probed first with a short timeout, so
an unreachable host fails in seconds with a message instead of the client's
retries.
"""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from tfxgate.pipelines.config.root import PipelineConfig

TOKEN_ENV = "KF_PIPELINES_TOKEN"
HEALTHZ = "/apis/v2beta1/healthz"


class SubmitError(RuntimeError):
    """The pipeline could not be submitted (the message says why and what to check)."""


@dataclass
class Submitted:
    experiment_id: str
    run_id: Optional[str] = None
    recurring_run_id: Optional[str] = None


def kfp_cron(schedule: str) -> str:
    """KFP's 6-field cron (seconds first) from a 5- or 6-field expression.

    >>> kfp_cron("0 3 * * *")
    '0 0 3 * * *'
    """
    fields = schedule.split()
    if len(fields) == 5:
        return " ".join(["0", *fields])
    if len(fields) == 6:
        return " ".join(fields)
    raise SubmitError(f"--schedule {schedule!r}: expected a cron expression of 5 (or 6, seconds first) fields")


def check_reachable(host: str, *, timeout: float = 5.0) -> None:
    """Fails fast when nothing answers at `host` (any HTTP answer, even 401, counts as reachable)."""
    try:
        urllib.request.urlopen(host.rstrip("/") + HEALTHZ, timeout=timeout).close()
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise SubmitError(
            f"cannot reach Kubeflow Pipelines at {host}: {reason}. "
            "Check --host (e.g. http://localhost:8080 after "
            "`kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80`)."
        ) from err


def submit(
    config: PipelineConfig,
    *,
    host: str,
    experiment: str = "Default",
    namespace: Optional[str] = None,
    schedule: Optional[str] = None,
    image: Optional[str] = None,
) -> Submitted:
    """Compiles the config and creates a run (or a recurring run) on the KFP at `host`.

    `image` is `compile_kubeflow`'s: an explicit image, used even where it lacks tfxgate.

    Raises:
      SubmitError: the host is unreachable, the schedule is malformed, or the config lacks `kubeflow:`.
      CompileError: the config cannot be compiled (e.g. an image without tfxgate).
    """
    cron = kfp_cron(schedule) if schedule else None
    if config.kubeflow is None:
        raise SubmitError(f"{config.source}: kubeflow: section missing (needs at least kubeflow.pipeline_root)")
    from tfxgate.pipelines.kubeflow.compile import check_image, compile_kubeflow  # compiling imports TFX

    check_image(config, image=image)  # before any network call
    check_reachable(host)
    with tempfile.TemporaryDirectory(prefix="tfxgate-submit-") as tmp:
        compiled = compile_kubeflow(config, Path(tmp) / f"{config.pipeline.name}.yaml", image=image)
        _upload_wheels(compiled)
        return _create(config, compiled.output, host=host, experiment=experiment, namespace=namespace, cron=cron)


def _create(config: PipelineConfig, package: Path, *, host, experiment, namespace, cron) -> Submitted:
    import kfp

    kubeflow = config.kubeflow
    client = kfp.Client(host=host, namespace=namespace or "kubeflow", existing_token=os.environ.get(TOKEN_ENV))
    experiment_id = client.create_experiment(name=experiment, namespace=namespace).experiment_id
    common = dict(
        experiment_id=experiment_id,
        pipeline_package_path=str(package),
        pipeline_root=kubeflow.pipeline_root,
        service_account=kubeflow.service_account,
    )
    if cron:
        recurring = client.create_recurring_run(
            job_name=f"{config.pipeline.name} ({cron})", cron_expression=cron, max_concurrency=1, **common
        )
        return Submitted(experiment_id=experiment_id, recurring_run_id=recurring.recurring_run_id)
    run = client.run_pipeline(job_name=config.pipeline.name, **common)
    return Submitted(experiment_id=experiment_id, run_id=run.run_id)


def _upload_wheels(compiled) -> None:
    """Copies the staged Trainer module wheels to a remote pipeline root (credentials from the environment)."""
    if not compiled.staged_wheels:
        return
    from tfx.dsl.io import fileio

    root = compiled.spec["defaultPipelineRoot"]
    try:
        fileio.makedirs(f"{root}/_wheels")
        for wheel in compiled.staged_wheels:
            fileio.copy(str(wheel), f"{root}/_wheels/{wheel.name}", overwrite=True)
    except Exception as err:  # any filesystem/credential error: say what failed, not a traceback
        raise SubmitError(
            f"cannot upload the Trainer module wheel to {root}/_wheels: {str(err).splitlines()[0]} "
            "(credentials come from the environment, e.g. GOOGLE_APPLICATION_CREDENTIALS or AWS_*)"
        ) from err
