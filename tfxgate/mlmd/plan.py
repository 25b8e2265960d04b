"""The stages a run set out to execute, recorded on its `pipeline_run` context.

ML Metadata records an execution only once its node starts, so a run killed
between two stages looks like a finished one: every execution is COMPLETE.
The local runner therefore records the run's plan (its node ids, in order) as
the custom property `tfxgate_planned_nodes` of the run's context as soon as
TFX has created it; the run summary and the report compare the plan with the
executions (`tfxgate.reporting.summary.judge`). A run recorded without a plan
(Kubeflow, a notebook, a store written before plans) is judged by its
executions alone.
"""

from __future__ import annotations

import json
from typing import Optional

import ml_metadata as mlmd

PLANNED_NODES = "tfxgate_planned_nodes"


def record(store: mlmd.MetadataStore, *, run_id: str, nodes: list[str]) -> bool:
    """Sets the plan on the run's context; False when TFX has not created the context yet."""
    context = store.get_context_by_type_and_name("pipeline_run", run_id)
    if context is None:
        return False
    if PLANNED_NODES not in context.custom_properties:
        context.custom_properties[PLANNED_NODES].string_value = json.dumps(list(nodes))
        store.put_contexts([context])
    return True


def planned(store: mlmd.MetadataStore, run_id: str) -> Optional[list[str]]:
    """The node ids the run set out to execute, in order; None when no plan was recorded."""
    context = store.get_context_by_type_and_name("pipeline_run", run_id)
    if context is None or PLANNED_NODES not in context.custom_properties:
        return None
    return json.loads(context.custom_properties[PLANNED_NODES].string_value)
