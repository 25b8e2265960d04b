"""Loaded by every Python process started with this folder on PYTHONPATH (the test cluster's pools
and their SDK workers): records which process opens a file under TFXGATE_PROBE_WATCH, one line
`pid mode path` per open into TFXGATE_PROBE_LOG.<pid>, through a `sys.addaudithook` hook (no Beam code is touched)."""

import os
import sys

_WATCH = os.environ.get("TFXGATE_PROBE_WATCH")
_LOG = os.environ.get("TFXGATE_PROBE_LOG")

if _WATCH and _LOG:

    def _record(event, args):
        if event == "open" and isinstance(args[0], str) and args[0].startswith(_WATCH) and _LOG not in args[0]:
            with open(f"{_LOG}.{os.getpid()}", "a") as log:
                log.write(f"{os.getpid()} {args[1] or 'r'} {args[0]}\n")

    sys.addaudithook(_record)
