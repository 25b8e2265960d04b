"""One worker-pool address in front of several Beam worker pools, handing out workers in turn.

A portable job names one EXTERNAL environment address (`environment_config`);
on Flink or Spark each node runs its own pool at that same address. On one
machine, `tfxgate beam-cluster` starts N pools on N ports, and this router is
the address the job gets: it serves Beam's `BeamFnExternalWorkerPool` API and
forwards each `StartWorker` to the next pool (round robin), so a job asking for
N SDK workers (`runner.beam.sdk_worker_parallelism: N`) gets one in every pool.
It never sees data: the workers connect to the job service themselves.

    python -m tfxgate.pipelines.beam_pool_router --port 50000 --pools localhost:50001,localhost:50002
"""

from __future__ import annotations

import argparse
import itertools
import logging
import threading

import grpc
from apache_beam.portability.api import beam_fn_api_pb2_grpc

_LOGGER = logging.getLogger(__name__)


class PoolRouter(beam_fn_api_pb2_grpc.BeamFnExternalWorkerPoolServicer):
    def __init__(self, pools: list[str]):
        self._stubs = [beam_fn_api_pb2_grpc.BeamFnExternalWorkerPoolStub(grpc.insecure_channel(p)) for p in pools]
        self._pools = pools
        self._turn = itertools.cycle(range(len(pools)))
        self._lock = threading.Lock()
        self._worker_pool: dict[str, int] = {}

    def StartWorker(self, request, context):  # noqa: N802 (gRPC method name)
        with self._lock:
            index = next(self._turn)
            self._worker_pool[request.worker_id] = index
        _LOGGER.info("worker %s -> pool %s", request.worker_id, self._pools[index])
        return self._stubs[index].StartWorker(request)

    def StopWorker(self, request, context):  # noqa: N802 (gRPC method name)
        with self._lock:
            index = self._worker_pool.pop(request.worker_id, None)
        if index is None:
            from apache_beam.portability.api import beam_fn_api_pb2

            return beam_fn_api_pb2.StopWorkerResponse()
        return self._stubs[index].StopWorker(request)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pools", required=True, help="comma-separated host:port of the worker pools")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from concurrent import futures

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    beam_fn_api_pb2_grpc.add_BeamFnExternalWorkerPoolServicer_to_server(PoolRouter(args.pools.split(",")), server)
    server.add_insecure_port(f"localhost:{args.port}")
    server.start()
    _LOGGER.info("routing workers to %s on localhost:%d", args.pools, args.port)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
