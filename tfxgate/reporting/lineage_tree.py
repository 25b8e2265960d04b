"""`tfxgate lineage PIPELINE VERSION`: from a pushed version back to its evidence, as a tree.

Finds the PushedModel of the pipeline whose `pushed_version` is VERSION (the
stock Pusher and the governed push both set it), steps to the Model that was
pushed, collects its evidence with the walker (tfxgate/lineage/evidence.py)
and draws it:

    model -> trainer run -> examples (span, fingerprints), schema, transform graph, statistics,
    anomalies, drift, evaluation (gates per slice), decisions (who, when, why),
    monitoring (each `tfxgate monitor` of its serving logs: verdict, breaches, actions)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import ml_metadata as mlmd

from tfxgate.artifacts import pushed
from tfxgate.lineage.evidence import Evidence, collect
from tfxgate.mlmd.graph import Graph
from tfxgate.reporting import text


class UnknownVersion(LookupError):
    """No pushed model of the pipeline has that version; the message lists the known ones."""


@dataclass
class Node:
    label: str
    children: list[Node]


def known_versions(store: mlmd.MetadataStore, *, pipeline: str, destination: Optional[str] = None) -> dict[str, int]:
    """Pushed version -> PushedModel artifact id (the newest per version), for one pipeline.

    Versions are numbered per destination (staging/1 and production/1 may hold different
    models), so `destination` narrows the search to one destination's name.
    """
    graph = Graph(store)
    if "PushedModel" not in graph.artifact_types.values():
        return {}
    context = store.get_context_by_type_and_name("pipeline", pipeline)
    if context is None:
        return {}
    attributed = {a.id for a in store.get_artifacts_by_context(context.id)}
    found: dict[str, int] = {}
    for artifact in sorted(store.get_artifacts_by_type("PushedModel"), key=lambda a: a.id):
        push = pushed.read(artifact)
        if not push.version or not push.pushed:
            continue
        if destination is not None and push.destination_name != destination:
            continue
        # The governed push's `approve` records Push executions outside a pipeline run; they
        # are associated with the pipeline context even when the artifact is not attributed.
        ours = artifact.id in attributed or any(
            c.name == pipeline
            for e in graph.producers(artifact.id)
            for c in graph.contexts_of(e.id, type_name="pipeline")
        )
        if ours:
            found[str(push.version)] = artifact.id
    return found


def lineage(store: mlmd.MetadataStore, *, pipeline: str, version: str, destination: Optional[str] = None) -> Evidence:
    """The evidence of the model pushed as `version` of `pipeline` (at `destination`, if named).

    Raises:
      UnknownVersion: no such pushed version (the message lists the known ones), or the
        version names different models at different destinations and none was chosen.
    """
    versions = known_versions(store, pipeline=pipeline, destination=destination)
    where = f" at destination '{destination}'" if destination else ""
    if version not in versions:
        nothing = f"none: nothing was pushed to '{destination}' yet" if destination else "none: nothing was pushed yet"
        known = ", ".join(sorted(versions)) if versions else nothing
        raise UnknownVersion(
            f"pipeline '{pipeline}' has no pushed version {version!r}{where} (known versions: {known})"
        )
    graph = Graph(store)
    if destination is None:
        _one_model_per_version(store, pipeline=pipeline, version=version)
    producers = graph.producers(versions[version])
    models = [a for e in producers for key, a in graph.inputs(e, type_name="Model") if key == "model"]
    models = models or [a for e in producers for _, a in graph.inputs(e, type_name="Model")]
    if not models:
        raise UnknownVersion(f"pushed version {version!r} of '{pipeline}' has no Model recorded as its input")
    return collect(store, model_artifact_id=models[0].id)


def _one_model_per_version(store: mlmd.MetadataStore, *, pipeline: str, version: str) -> None:
    """Refuses a version number that names different models at different destinations."""
    models: dict[str, int] = {}
    for push in map(pushed.read, store.get_artifacts_by_type("PushedModel")):
        if push.version == version and push.pushed:
            models.setdefault(push.destination_name or "", push.model_id)
    if len(set(models.values())) > 1:
        names = ", ".join(sorted(models))
        raise UnknownVersion(
            f"version {version!r} of '{pipeline}' is a different model at each of {names}: pass --destination NAME"
        )


def tree(evidence: Evidence, *, version: Optional[str] = None) -> Node:
    """The lineage as a tree of labelled nodes (see `render`)."""
    pushes = [p for p in evidence.pushes if version is None or p.version == version] or evidence.pushes
    root = Node(f"model {evidence.model_id}  {evidence.model_uri}", [])
    for push in pushes:
        name = f" ({push.destination_name})" if push.destination_name else ""
        if push.pushed:
            root.children.append(Node(f"pushed as version {push.version}{name} -> {push.destination}", []))
        else:
            root.children.append(Node(f"not pushed{name} (PushedModel {push.artifact_id} says pushed=0)", []))
    trainer = evidence.trainer
    if trainer is None:
        root.children.append(Node("trainer: no execution recorded as producing this model", []))
        return root
    run = Node(
        f"trained by {trainer.component} (execution {trainer.execution_id}, {trainer.state}) in run {trainer.run_id} "
        f"of '{trainer.pipeline}', {trainer.started} -> {trainer.finished}",
        [],
    )
    root.children.append(run)
    if evidence.examples is not None:
        fingerprints = [Node(line, []) for line in text.fingerprint_lines(evidence.examples)]
        run.children.append(
            Node(f"examples {evidence.examples.artifact_id}: {text.examples_text(evidence.examples)}", fingerprints)
        )
    if evidence.schema is not None:
        count = evidence.schema.feature_count
        run.children.append(Node(f"schema {evidence.schema.artifact_id}: {count} features  {evidence.schema.uri}", []))
    if evidence.transform is not None:
        run.children.append(_transform_node(evidence.transform))
    if evidence.statistics is not None:
        splits = ", ".join(f"{s} {v['examples']} examples" for s, v in evidence.statistics.splits.items())
        run.children.append(Node(f"statistics {evidence.statistics.artifact_id}: {splits or 'files not found'}", []))
    if evidence.anomalies is not None:
        found = evidence.anomalies.anomalies
        verdict = "passed" if evidence.anomalies.passed else "FAILED"
        items = [Node(f"{a['split']}: {a['feature']}: {a['description']}", []) for a in found]
        run.children.append(Node(f"anomalies {evidence.anomalies.artifact_id}: {verdict}, {len(found)} found", items))
    if evidence.drift is not None:
        run.children.append(Node(f"drift {evidence.drift.report_id}: {text.drift_text(evidence.drift)}", []))
    if evidence.evaluation is not None:
        run.children.append(_evaluation_node(evidence))
    decisions = [Node(text.decision_text(g), []) for g in evidence.governance]
    root.children.append(Node("decisions:" if decisions else "decisions: none recorded (no approval step)", decisions))
    if evidence.monitoring:
        root.children.append(Node("monitoring:", [_monitoring_node(m) for m in evidence.monitoring]))
    return root


def _transform_node(transform) -> Node:
    children = [Node(f"module {transform.module_file}", [])] if transform.module_file else []
    for side in (transform.pre_transform, transform.post_transform):
        if side is not None:
            name = "pre-transform" if side is transform.pre_transform else "post-transform"
            rows = "files not found" if side.examples is None else f"{side.examples} examples"
            children.append(Node(f"{name} statistics {side.artifact_id}: {rows}, {len(side.features)} features", []))
    features = ", ".join(transform.transformed_features) or "schema not found"
    return Node(f"transform graph {transform.graph_id}: {features}  {transform.graph_uri}", children)


def _monitoring_node(record) -> Node:
    """One `tfxgate monitor` of this model: when, where, the verdict, each breach and what the policy did."""
    label = (
        f"{record.at} {record.destination} {record.role} version {record.version}: {record.status.upper()} "
        f"(logs {record.logs})"
    )
    children = [Node(f"breach: {b['message']}", []) for b in record.breaches]
    children += [
        Node(f"{a['action']}: {'done' if a['done'] else 'not done'}: {a['detail']}", []) for a in record.actions
    ]
    return Node(label, children)


def _evaluation_node(evidence: Evidence) -> Node:
    evaluation = evidence.evaluation
    children = []
    for row in text.slice_gates(evaluation):
        if row.status == "too small to judge":
            continue
        checks = "; ".join(text.check_text(c) for c in row.checks)
        children.append(Node(f"{row.slice}: {row.status} (n={text.number(row.examples)}) {checks}", []))
    if evaluation.too_small_to_judge:
        children.append(Node(f"{len(evaluation.too_small_to_judge)} slices too small to judge", []))
    children += [
        Node(f"gap: {text.gate_text({'max': g['max']})} on {g['metric']} across {g['slice']}", [])
        for g in evaluation.max_gap
    ]
    return Node(f"evaluation {evaluation.blessing_id}: {text.evaluation_headline(evaluation)}", children)


def render(node: Node) -> str:
    """A tree drawn with box characters, one node per line."""
    lines = [node.label]
    _draw(node.children, prefix="", lines=lines)
    return "\n".join(lines)


def _draw(children: list[Node], *, prefix: str, lines: list[str]) -> None:
    for i, child in enumerate(children):
        last = i == len(children) - 1
        lines.append(f"{prefix}{'└─ ' if last else '├─ '}{child.label}")
        _draw(child.children, prefix=prefix + ("   " if last else "│  "), lines=lines)
