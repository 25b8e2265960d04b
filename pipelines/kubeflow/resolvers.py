"""The resolvers on Kubeflow: tfxgate's baselines as ML Metadata queries the KFP backend answers.

Locally, three resolver strategies run Python against ML Metadata: the previous
span (DataDrift's baseline), the span the model in production was trained on
(DataDrift's second baseline) and the latest pushed model other than the
candidate (SliceEval's baseline). TFX's Kubeflow V2 compiler accepts only its
two stock strategies (`step_builder._build_resolver_spec`); a resolver task in
the spec is no code at all, but `ResolverSpec.outputArtifactQueries`: one
filter (AIP-160: `schema_title`, `state`, `uri`, `metadata.<key>.number_value`,
`AND`, comparisons) per output, whose latest match the backend hands on, with
placeholders for the task's input artifacts, as in TFX's own
latest-blessed-model query (`name="{{$.inputs.artifacts['input'].metadata[...]}}"`).

So `stages.py` builds each of them for Kubeflow as a stock `LatestArtifactStrategy`
node with the right id and output (`query_resolver`), which the compiler wires to
its consumer, and `apply` replaces their queries and inputs in the compiled spec:

    previous_span_resolver   Examples of an earlier span than Ingest's (spanned input), or the
                             latest other ingestion (unspanned input)
    pushed_model_resolver    the newest PushedModel with pushed=1 (added: nothing in the DSL needs it)
    pushed_span_resolver     the Examples whose uri that PushedModel's `examples_uri` names, not Ingest's
    baseline_model_resolver  the Model whose uri that PushedModel's `model_uri` names, not the candidate

GovernedPush records `examples_uri` and `model_uri` on its PushedModel for this.
Differences from the local strategies: "latest" is the newest match by creation
(the local previous-span strategy takes the highest span); the baseline is the
newest pushed model's, or none when that is the candidate itself (locally, the
pushed model before it).
"""

from __future__ import annotations

from typing import Any

from tfxgate.pipelines import stage_ids

PUSHED_MODEL = "pushed_model_resolver"
PUSHED_MODEL_KEY = "pushed_model"
EXAMPLES_URI = "examples_uri"  # GovernedPush's PushedModel properties (components/governed_push/executor.py)
MODEL_URI = "model_uri"
_LIVE = "state=LIVE"


def query_resolver(node_id: str, key: str, artifact_type):
    """A stock latest-artifact resolver of `artifact_type` (output `key`), whose query `apply` replaces."""
    from tfx import v1 as tfx  # only where a pipeline is built: `apply` is plain data

    return tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestArtifactStrategy, **{key: tfx.dsl.Channel(type=artifact_type)}
    ).with_id(node_id)


def apply(spec: dict[str, Any], *, spanned: bool) -> None:
    """Replaces the stand-in resolvers' queries in a compiled PipelineSpec (a dict), in place.

    Args:
      spec: the `pipelineSpec` of the compiled job.
      spanned: whether `data.path` has a span spec (Ingest then records span numbers to compare).
    """
    tasks = spec["root"]["dag"]["tasks"]
    if stage_ids.PREVIOUS_SPAN in tasks:
        current = _input(spec, stage_ids.PREVIOUS_SPAN, "current", producer="Ingest", key="examples")
        earlier = f"metadata.span.number_value<{_metadata(current, 'span')}" if spanned else _not(current)
        _query(spec, stage_ids.PREVIOUS_SPAN, "examples", "tfx.Examples", earlier)
    pushed_consumers = [task for task in (stage_ids.PUSHED_SPAN, stage_ids.BASELINE) if task in tasks]
    if pushed_consumers:
        _add_pushed_model_resolver(spec)
    if stage_ids.PUSHED_SPAN in tasks:
        pushed = _input(spec, stage_ids.PUSHED_SPAN, PUSHED_MODEL_KEY, producer=PUSHED_MODEL, key=PUSHED_MODEL_KEY)
        current = _input(spec, stage_ids.PUSHED_SPAN, "current", producer="Ingest", key="examples")
        condition = f'uri="{_metadata(pushed, EXAMPLES_URI)}" AND {_not(current)}'
        _query(spec, stage_ids.PUSHED_SPAN, "examples", "tfx.Examples", condition)
    if stage_ids.BASELINE in tasks:
        pushed = _input(spec, stage_ids.BASELINE, PUSHED_MODEL_KEY, producer=PUSHED_MODEL, key=PUSHED_MODEL_KEY)
        candidate = _input(spec, stage_ids.BASELINE, "candidate", producer="Trainer", key="model")
        condition = f'uri="{_metadata(pushed, MODEL_URI)}" AND {_not(candidate)}'
        _query(spec, stage_ids.BASELINE, "model", "tfx.Model", condition)


def _metadata(key: str, prop: str) -> str:
    return f"{{{{$.inputs.artifacts['{key}'].metadata['{prop}']}}}}"


def _not(key: str) -> str:
    """Not the input artifact `key` itself."""
    return f"uri!=\"{{{{$.inputs.artifacts['{key}'].uri}}}}\""


def _query(spec: dict, task: str, output: str, schema_title: str, condition: str) -> None:
    component = spec["components"][spec["root"]["dag"]["tasks"][task]["componentRef"]["name"]]
    executor = spec["deploymentSpec"]["executors"][component["executorLabel"]]
    query = f'schema_title="{schema_title}" AND {_LIVE} AND {condition}'
    executor["resolver"] = {"outputArtifactQueries": {output: {"filter": query}}}


def _input(spec: dict, task: str, name: str, *, producer: str, key: str) -> str:
    """Makes `producer`'s output `key` the input `name` of resolver `task` (the query's placeholders read it)."""
    tasks = spec["root"]["dag"]["tasks"]
    component = spec["components"][tasks[task]["componentRef"]["name"]]
    producer_component = spec["components"][tasks[producer]["componentRef"]["name"]]
    artifact_type = producer_component["outputDefinitions"]["artifacts"][key]["artifactType"]
    component.setdefault("inputDefinitions", {}).setdefault("artifacts", {})[name] = {"artifactType": artifact_type}
    inputs = tasks[task].setdefault("inputs", {}).setdefault("artifacts", {})
    inputs[name] = {"taskOutputArtifact": {"producerTask": producer, "outputArtifactKey": key}}
    tasks[task]["dependentTasks"] = sorted({*tasks[task].get("dependentTasks", []), producer})
    return name


def _add_pushed_model_resolver(spec: dict) -> None:
    artifact_type = {"instanceSchema": "title: tfx.PushedModel\ntype: object\n"}  # as TFX's compiler writes it
    label = f"{PUSHED_MODEL}_executor"
    spec["components"][PUSHED_MODEL] = {
        "executorLabel": label,
        "outputDefinitions": {"artifacts": {PUSHED_MODEL_KEY: {"artifactType": artifact_type}}},
    }
    spec["root"]["dag"]["tasks"][PUSHED_MODEL] = {
        "componentRef": {"name": PUSHED_MODEL},
        "taskInfo": {"name": PUSHED_MODEL},
    }
    spec["deploymentSpec"]["executors"][label] = {}
    _query(spec, PUSHED_MODEL, PUSHED_MODEL_KEY, "tfx.PushedModel", "metadata.pushed.number_value=1")
