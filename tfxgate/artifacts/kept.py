"""Where a gate stage that stopped the run keeps its output: TFX deletes a failed execution's outputs.

DataDrift (drift report) and Validate (anomaly summary) raise to stop the run
before training; TFX then removes their output directories and publishes no
artifact. Each keeps a copy first, in a `blocked/` directory beside its outputs,
so the run summary and the report can show why the run stopped.
"""

from __future__ import annotations

import os


def kept_dir(output_uri: str) -> str:
    """`<pipeline root>/<node>/<output key>/<execution id>` -> `<pipeline root>/<node>/blocked/<execution id>`.

    >>> kept_dir("/root/artifacts/DataDrift/drift_report/12/")
    '/root/artifacts/DataDrift/blocked/12'
    """
    component_dir = os.path.split(os.path.dirname(output_uri.rstrip("/")))[0]
    return os.path.join(component_dir, "blocked", os.path.basename(output_uri.rstrip("/")))
