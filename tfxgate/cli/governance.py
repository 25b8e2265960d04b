"""The CLI face of tfxgate/governance/store.py: argument handling and what is printed.

Kept apart from cli.py so the verbs and their messages sit together. A refused
decision prints one line on stderr and exits 2 (like an invalid config).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from tfxgate.cli import console
from tfxgate.pipelines.config.root import PipelineConfig

EXIT_OK, EXIT_REFUSED = 0, 2


def govern(config: PipelineConfig, args: argparse.Namespace) -> int:
    from tfxgate.governance import store as governance
    from tfxgate.governance.decisions import model_name
    from tfxgate.mlmd.store import MetadataError

    target = config.governed()
    try:
        if args.command == "history":
            return _history(governance.history(target, args.pipeline), as_json=args.json)
        if args.command == "approve":
            done = governance.approve(
                target,
                args.run,
                by=args.by,
                reason=args.reason,
                destination=args.destination,
                allow_older=args.allow_older,
            )
            record = done.record
            model = model_name(record.model_id, record.model_fingerprint)
            if done.retried:
                print(
                    f"tfxgate: run {record.run_id}, {model}, was already approved for {record.destination} "
                    f"by {record.by}: it is version {record.version} -> {done.path} (completed now)"
                )
            else:
                print(
                    f"tfxgate: approved run {record.run_id}, {model}, for {record.destination} by {record.by}; "
                    f"pushed version {record.version} -> {done.path} ({_live(target, record)})"
                )
        elif args.command == "reject":
            done = governance.reject(target, args.run, by=args.by, reason=args.reason, destination=args.destination)
            record = done.record
            print(
                f"tfxgate: rejected run {record.run_id}, {model_name(record.model_id, record.model_fingerprint)}, "
                f"for {record.destination} by {record.by}; nothing pushed, and no later run of this model will be"
            )
        elif args.command == "reopen":
            done = governance.reopen(
                target, args.run, model_id=args.model, by=args.by, reason=args.reason, destination=args.destination
            )
            record = done.record
            print(
                f"tfxgate: reopened {model_name(record.model_id, record.model_fingerprint)} for {record.destination} "
                f"by {record.by}: it can be approved again"
            )
        elif args.command == "promote":
            done = governance.promote(target, args.destination, by=args.by, reason=args.reason)
            _rolled(done, "promoted", "now serves it as stable")
        elif args.command == "abort":
            done = abort_canary(config, args.destination, by=args.by, reason=args.reason)
            _rolled(done, "aborted", f"serves stable version {done.record.previous_version or 'none'} alone")
        else:
            done = governance.rollback(
                target,
                args.pipeline,
                to=args.to,
                by=args.by,
                reason=args.reason,
                destination=args.destination,
            )
            print(
                f"tfxgate: {done.record.destination} now serves version {done.record.version} "
                f"(was {done.record.previous_version or 'none'}), rolled back by {done.record.by}"
                + (" (a retry: completed now)" if done.retried else "")
            )
            from tfxgate.alerts.runs import rollback
            from tfxgate.cli.alerting import announce

            announce(config, [rollback(done.record)])
    except MetadataError as err:
        problem = console.metadata_problem(
            err, config=args.config, root=getattr(args, "root", None), overrides=args.overrides
        )
        print(f"tfxgate: {problem}", file=sys.stderr)
        return EXIT_REFUSED
    except governance.GovernanceError as err:
        print(f"tfxgate: {err}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def abort_canary(config: PipelineConfig, destination, *, by: str, reason: str):
    """`governance.store.abort`, then the `canary_abort` alert to the config's sinks; returns its Done.

    What `tfxgate abort` runs, and what `tfxgate monitor` calls to abort a canary automatically.

    Raises:
      GovernanceError: nothing to abort (no rollout, no candidate).
    """
    from tfxgate.alerts.runs import canary_abort
    from tfxgate.cli.alerting import announce
    from tfxgate.governance import store as governance

    done = governance.abort(config.governed(), destination, by=by, reason=reason)
    # Also on a retry: a kill between the record and the alert must not lose it (at least once).
    announce(config, [canary_abort(done.record)])
    return done


def _live(target, record) -> str:
    """How a pushed version went live: `now current`, or as the canary candidate beside the stable version."""
    from tfxgate.governance import rollout

    directory = target.destinations[record.destination].directory
    if rollout.candidate(directory) != record.version:
        return "now current"
    weight = target.destinations[record.destination].rollout.weight
    return f"the candidate at {weight}% of traffic: tfxgate promote / tfxgate abort"


def _rolled(done, verb: str, outcome: str) -> None:
    record = done.record
    retry = " (a retry: completed now)" if done.retried else ""
    print(
        f"tfxgate: {verb} candidate version {record.version} at {record.destination} by {record.by}: "
        f"{record.destination} {outcome}{retry}"
    )


def _history(rows, *, as_json: bool) -> int:
    from tfxgate.governance.decisions import short

    if as_json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return EXIT_OK
    if not rows:
        print("no pushes yet")
        return EXIT_OK
    print(f"{'':2}{'when (UTC)':<27}{'what':<10}{'destination':<13}{'version':<9}{'by':<16}model / reason / gates")
    for r in rows:
        mark = "* " if r.current else "c " if r.candidate else "  "
        gates = ", ".join(f"{g} {'ok' if ok else 'FAILED'}" for g, ok in r.gates.items()) or "-"
        model = f"model {r.model_id} ({short(r.fingerprint)})" if r.fingerprint else f"model {r.model or '-'}"
        print(f"{mark}{r.at:<27}{r.kind:<10}{r.destination:<13}{r.version or '-':<9}{r.by:<16}{model}")
        print(f"{'':77}reason: {r.reason}")
        if r.kind == "push":
            print(f"{'':77}gates: {gates}  (run {r.run_id})")
        elif r.kind in ("promote", "abort"):
            print(f"{'':77}candidate {r.version} (stable was {r.previous_version or 'none'})  (run {r.run_id})")
        elif r.kind in ("pending", "rejection", "reopen"):
            print(f"{'':77}run {r.run_id}{': ' + r.state if r.state else ''}")
    print(
        "* = current version of its destination"
        + (", c = its canary candidate" if any(r.candidate for r in rows) else "")
    )
    return EXIT_OK
