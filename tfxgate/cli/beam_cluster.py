"""`tfxgate beam-cluster up|status|down`: Beam job service + worker pools on loopback (pipelines/beam_cluster.py)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED = 0, 1


def add_parser(commands) -> None:
    cluster = commands.add_parser(
        "beam-cluster",
        help="start/stop a local Beam job service and SDK worker pools for runner.beam: portable",
        description="Beam's portable protocol on loopback (what Flink, Spark and Dataflow run Python with): "
        "a job service and N external SDK worker pools, each in its own process group.",
    )
    verbs = cluster.add_subparsers(dest="cluster_command", required=True, metavar="COMMAND")
    up = verbs.add_parser("up", help="start the job service and --workers pools; print the runner.beam settings")
    up.add_argument("--workers", type=int, default=2, help="worker pools (one SDK worker each per job; default 2)")
    down = verbs.add_parser("down", help="stop every process of the cluster")
    status = verbs.add_parser("status", help="show each process: running, answering")
    for verb in (up, down, status):
        verb.add_argument(
            "--state-dir", type=Path, default=None, help="where the state file and logs live (.tfxgate/beam-cluster)"
        )


def run(args: argparse.Namespace) -> int:
    from tfxgate.pipelines import beam_cluster

    state_dir = args.state_dir or beam_cluster.DEFAULT_STATE_DIR
    try:
        if args.cluster_command == "up":
            state = beam_cluster.up(workers=args.workers, state_dir=state_dir)
            for process in state["processes"]:
                print(f"{process['name']:<14} {process['address']:<16} pid {process['pid']}  log {process['log']}")
            print(f"\npoint a run at it with:\n  tfxgate run CONFIG {shlex.join(beam_cluster.set_flags(state))}")
            print(f"or in the config:\n{beam_cluster.config_snippet(state)}")
            print(f"stop it with: tfxgate beam-cluster down --state-dir {shlex.quote(str(state_dir))}")
        elif args.cluster_command == "status":
            found = beam_cluster.status(state_dir)
            for process in found:
                state = "answering" if process["answering"] else ("running" if process["running"] else "stopped")
                print(f"{process['name']:<14} {process['address']:<16} pid {process['pid']}  {state}")
            return EXIT_OK if all(p["answering"] for p in found) else EXIT_FAILED
        else:
            for process in beam_cluster.down(state_dir):
                print(f"stopped {process['name']} (pid {process['pid']})")
    except beam_cluster.ClusterError as err:
        print(f"tfxgate: {err}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
