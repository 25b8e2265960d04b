"""The CLI face of `tfxgate monitor`: turn the config into values, judge the batch, apply the policy, print.

    tfxgate monitor CONFIG --destination NAME --logs FILE [--labels FILE]

Prints a quiet summary (one line per served model, one per breach and per
action); exit 0 when no model breached, 4 on a breach, 2 for an unusable
config or command line (unknown destination, unreadable logs), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys

from tfxgate.components.slice_eval.settings import Buckets, slice_columns
from tfxgate.pipelines.config.root import PipelineConfig

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_BREACH = 0, 1, 2, 4


def slicings(config: PipelineConfig) -> list:
    """The evaluation's slices as the monitor slices serving rows (bucketed columns derived the same way)."""
    from tfxgate.monitoring.metrics import Slicing

    stage = config.stages.evaluation
    buckets = {s.column: (s.feature, s.label) for s in stage.slices if isinstance(s, Buckets)}
    return [Slicing(tuple(slice_columns(s)), buckets) for s in stage.slices]


def monitor(config: PipelineConfig, args: argparse.Namespace) -> int:
    from tfxgate.governance.store import GovernanceError
    from tfxgate.mlmd.store import MetadataError
    from tfxgate.monitoring import policy
    from tfxgate.monitoring.logs import LogError
    from tfxgate.monitoring.run import monitor as judge_batch
    from tfxgate.monitoring.serving import NothingServed

    target = config.governed()
    if args.destination not in target.destinations:
        known = ", ".join(target.destinations) or "none"
        print(f"tfxgate: unknown destination '{args.destination}' (stages.push.destinations: {known})", file=sys.stderr)
        return EXIT_CONFIG
    try:
        outcome = judge_batch(
            target,
            destination=args.destination,
            logs=str(args.logs),
            labels=str(args.labels) if args.labels else None,
            section=config.monitoring,
            slicings=slicings(config),
            label=config.data.label,
            decision_threshold=config.stages.evaluation.decision_threshold,
        )
    except (LogError, NothingServed, GovernanceError) as err:
        print(f"tfxgate: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except MetadataError as err:
        print(f"tfxgate: {err}", file=sys.stderr)
        return EXIT_FAILED
    for check in outcome.checks:
        state = "BREACH" if check.breaches else "ok"
        print(
            f"tfxgate: {args.destination} {check.role} version {check.version} (model {check.model_id}): {state} "
            f"({check.rows} rows, {check.labelled} labelled)"
        )
        for breach in check.breaches:
            print(f"  breach: {breach.message}")
    actions = policy.apply(outcome, list(config.monitoring.on_breach), target=target, alerts_section=config.alerts)
    if actions:
        from tfxgate.mlmd import monitoring as records
        from tfxgate.mlmd.store import open_store

        store = open_store(target.metadata, root=target.root)
        for execution_id in outcome.executions.values():
            records.set_actions(store, execution_id, actions)
    for action in actions:
        print(f"  {action['action']}: {'done' if action['done'] else 'NOT done'}: {action['detail']}")
    print(f"  report: {outcome.html_path}")
    return EXIT_BREACH if outcome.status == "breach" else EXIT_OK
