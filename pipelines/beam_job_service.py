"""Beam's Python job service, running each job on as many SDK workers as it asks for.

`apache_beam.runners.portability.local_job_service_main` runs every job with an
`FnApiRunner` that uses one SDK worker per environment: it reads the worker
count from the options only on its direct-runner path (`run_pipeline`), not on
the job-service path (`run_via_runner_api`). Flink and Spark start
`--sdk_worker_parallelism` workers per node; this job service does the same, so
a job on `tfxgate beam-cluster` with two worker pools really runs on both (the
runner then splits each stage's input across the workers, as the DirectRunner's
multi_processing mode does). Everything else is Beam's job service unchanged.

    python -m tfxgate.pipelines.beam_job_service --port 8099
"""

from __future__ import annotations

import argparse
import logging
import threading

from apache_beam.options.pipeline_options import PortableOptions
from apache_beam.portability.api import beam_job_api_pb2
from apache_beam.runners.portability import local_job_service
from apache_beam.runners.portability.fn_api_runner import fn_runner

_LOGGER = logging.getLogger(__name__)


def sdk_workers(options) -> int:
    """The job's `--sdk_worker_parallelism` (Beam's default 1; 0 also means 1 here)."""
    return max(1, int(options.view_as(PortableOptions).sdk_worker_parallelism or 1))


class ParallelJob(local_job_service.BeamJob):
    def _invoke_runner(self):
        self.set_state(beam_job_api_pb2.JobState.RUNNING)
        options = self.pipeline_options()
        runner = fn_runner.FnApiRunner(provision_info=self._provision_info)
        # What FnApiRunner.run_pipeline sets from --direct_num_workers; the job-service path leaves it at 1.
        runner._num_workers = sdk_workers(options)
        _LOGGER.info("job %s on %d SDK workers", self._job_id, runner._num_workers)
        return runner.run_via_runner_api(self._pipeline_proto, options)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--staging_dir")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    servicer = local_job_service.LocalJobServicer(args.staging_dir, beam_job_type=ParallelJob)
    port = servicer.start_grpc_server(args.port)
    _LOGGER.info("Listening for beam jobs on port %d", port)
    try:
        threading.Event().wait()
    finally:
        servicer.stop()


if __name__ == "__main__":
    main()
