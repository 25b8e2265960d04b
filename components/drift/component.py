"""The DataDrift TFX component and the resolvers that find its two baseline spans.

    examples (this span) ───────────────┐
    previous span (MLMD) ───────────────┤
    span of the pushed model (MLMD) ────┼─> DataDrift ─> drift_report (JSON + HTML), drift_blessing
    schema ─────────────────────────────┤
    transform graph (optional) ─────────┘  skew also on the transformed features

`PreviousSpanStrategy` finds, through ML Metadata, the Examples of the latest
span before this one (the `span` property any ExampleGen sets); never another
ingestion of this same span (a rerun, perhaps of fixed data, is not a
baseline). Only for unspanned input (no span spec in the path: Ingest records
`spanned`=0) is the baseline the previous ingestion. `PushedModelSpanStrategy` finds
the Examples the model in production (the newest PushedModel with `pushed`=1)
was trained on (pushed_span.py walks the lineage). The first run has neither:
drift is then not checked (skew still is, when a serving source is configured).
"""

from typing import Dict, List, Optional

from tfx import types
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.components.common import resolver
from tfx.types import standard_artifacts
from tfx.types.channel import Channel

from tfxgate.components.drift import executor, pushed_span

EXAMPLES = "examples"
CURRENT = "current"
SPANNED = "spanned"  # Ingest's custom property (components/ingest/component.py)


class DriftReport(types.Artifact):
    """drift_report.json (every feature x measure) and drift_report.html."""

    TYPE_NAME = "tfxgate.DriftReport"


class DriftBlessing(types.Artifact):
    """Custom property `blessed` (1/0) and `retrain` (1 when policy retrain saw drift)."""

    TYPE_NAME = "tfxgate.DriftBlessing"


class PreviousSpanStrategy(resolver.ResolverStrategy):
    """Resolves `examples` to the previous span's Examples, relative to `current`."""

    def resolve_artifacts(
        self, store, input_dict: Dict[str, List[types.Artifact]]
    ) -> Optional[Dict[str, List[types.Artifact]]]:
        current = list(input_dict.get(CURRENT, []))
        previous = previous_span([a for a in input_dict.get(EXAMPLES, [])], current)
        return {EXAMPLES: [previous] if previous else [], CURRENT: current}


def previous_span(candidates: list, current: list):
    """The latest Examples of an earlier span; for unspanned input, the latest earlier ingestion.

    Spanned input never gets another ingestion of its own span as baseline: that is the same
    span read again (e.g. after fixing its missing-value tokens), not the data it drifts from.
    """
    if not current:
        return None
    [this] = current
    others = [a for a in candidates if a.id != this.id and a.id < this.id]
    pool = [a for a in others if a.span < this.span]
    if not pool and not is_spanned(this):
        pool = [a for a in others if a.span == this.span]
    return max(pool, key=lambda a: (a.span, a.id), default=None)


def is_spanned(examples) -> bool:
    """Whether these Examples came from a span pattern: Ingest's `spanned` property, else a span other than 0."""
    if examples.has_custom_property(SPANNED):
        return examples.get_int_custom_property(SPANNED) == 1
    return examples.span != 0  # another ExampleGen: span 0 is also what unspanned input gets


class PushedModelSpanStrategy(resolver.ResolverStrategy):
    """Resolves `examples` to the Examples the pushed model was trained on (never `current` itself)."""

    def resolve_artifacts(
        self, store, input_dict: Dict[str, List[types.Artifact]]
    ) -> Optional[Dict[str, List[types.Artifact]]]:
        current = list(input_dict.get(CURRENT, []))
        candidates = {a.id: a for a in input_dict.get(EXAMPLES, [])}  # this pipeline's Examples
        trained_on = pushed_span.pushed_model_examples_id(store, among=set(candidates))
        if trained_on is None or trained_on in {a.id for a in current}:
            return {EXAMPLES: [], CURRENT: current}
        return {EXAMPLES: [candidates[trained_on]], CURRENT: current}


def pushed_span_resolver(current_examples):
    return resolver.Resolver(
        strategy_class=PushedModelSpanStrategy,
        **{EXAMPLES: Channel(type=standard_artifacts.Examples), CURRENT: current_examples},
    ).with_id("pushed_span_resolver")


def previous_span_resolver(current_examples):
    return resolver.Resolver(
        strategy_class=PreviousSpanStrategy,
        **{EXAMPLES: Channel(type=standard_artifacts.Examples), CURRENT: current_examples},
    ).with_id("previous_span_resolver")


@component
def DataDrift(
    examples: InputArtifact[standard_artifacts.Examples],
    schema: InputArtifact[standard_artifacts.Schema],
    drift_report: OutputArtifact[DriftReport],
    drift_blessing: OutputArtifact[DriftBlessing],
    config_json: Parameter[str],
    baseline_examples: InputArtifact[standard_artifacts.Examples] = None,
    pushed_examples: InputArtifact[standard_artifacts.Examples] = None,
    transform_graph: InputArtifact[standard_artifacts.TransformGraph] = None,
) -> None:
    """Drift (this span vs the previous one and vs the pushed model's) and skew (vs serving data), gated by policy.

    With a transform graph (stages.transform), skew is measured on the raw and on the transformed features.
    """
    from tfx.utils import io_utils

    from tfxgate.artifacts.schema import read_schema

    settings = executor.Settings.from_json(config_json)
    schema_proto = read_schema(io_utils.get_only_uri_in_dir(schema.uri))
    baselines = {
        kind: (artifact.uri, _name(artifact))
        for kind, artifact in ((executor.DRIFT, baseline_examples), (executor.PUSHED_DRIFT, pushed_examples))
        if artifact is not None
    }
    reports, blessed = executor.run(
        examples_uri=examples.uri,
        examples_name=_name(examples),
        baselines=baselines,
        schema=schema_proto,
        settings=settings,
        output_dir=drift_report.uri,
        transform_graph_uri=transform_graph.uri if transform_graph is not None else None,
    )
    drift_report.set_string_custom_property("drifted_features", ",".join(name for r in reports for name in r.flagged))
    drift_blessing.set_int_custom_property("blessed", int(blessed or settings.policy != "block"))
    drift_blessing.set_int_custom_property("retrain", int(not blessed and settings.policy == "retrain"))
    executor.apply_policy(reports, policy=settings.policy, report_dir=drift_report.uri)


def _name(examples) -> str:
    """How the report names a compared side: its ML Metadata artifact id and its span."""
    return f"Examples artifact {examples.id} (span {examples.span})"
