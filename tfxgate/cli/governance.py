"""The CLI face of tfxgate/governance/store.py: argument handling and what is printed.

Kept apart from cli.py so the verbs and their messages sit together. A refused
decision prints one line on stderr and exits 2 (like an invalid config).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from tfxgate.pipelines.config.root import PipelineConfig

EXIT_OK, EXIT_REFUSED = 0, 2


def govern(config: PipelineConfig, args: argparse.Namespace) -> int:
    from tfxgate.governance import store as governance
    from tfxgate.mlmd.store import MetadataError

    target = config.governed()
    try:
        if args.command == "history":
            return _history(governance.history(target, args.pipeline), as_json=args.json)
        if args.command == "approve":
            done = governance.approve(target, args.run, by=args.by, reason=args.reason, destination=args.destination)
            print(
                f"tfxgate: approved run {done.record.run_id} for {done.record.destination} by {done.record.by}; "
                f"pushed version {done.record.version} -> {done.path} (now current)"
            )
        elif args.command == "reject":
            done = governance.reject(target, args.run, by=args.by, reason=args.reason, destination=args.destination)
            record = done.record
            print(f"tfxgate: rejected run {record.run_id} for {record.destination} by {record.by}; nothing pushed")
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
            )
    except (governance.GovernanceError, MetadataError) as err:
        print(f"tfxgate: {err}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def _history(rows, *, as_json: bool) -> int:
    if as_json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return EXIT_OK
    if not rows:
        print("no pushes yet")
        return EXIT_OK
    print(f"{'':2}{'when (UTC)':<27}{'what':<10}{'destination':<13}{'version':<9}{'by':<16}model / reason / gates")
    for r in rows:
        mark = "* " if r.current else "  "
        gates = ", ".join(f"{g} {'ok' if ok else 'FAILED'}" for g, ok in r.gates.items()) or "-"
        print(f"{mark}{r.at:<27}{r.kind:<10}{r.destination:<13}{r.version:<9}{r.by:<16}model {r.model or '-'}")
        print(f"{'':77}reason: {r.reason}")
        if r.kind == "push":
            print(f"{'':77}gates: {gates}  (run {r.run_id})")
    print("* = current version of its destination")
    return EXIT_OK
