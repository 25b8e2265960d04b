"""What the DataDrift component does when it runs (thin: read, check, write, decide).

The pure work is in check.py (measures per feature), report_payload.py (the
report's data, drawn by tfxgate.reporting.drift_html) and tables.py (reading
data). This module picks the thresholds (config defaults, per-feature
overrides, and the schema's TFDV comparators for linf/jsd), writes
`drift_report.json` + `drift_report.html`, sets the blessing and applies the
policy: `block` raises, naming the drifted features, so the run stops before
the Trainer and nothing is pushed.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from typing import Optional

from tfxgate.artifacts import drift_report
from tfxgate.artifacts.examples import record_batches, split_batches
from tfxgate.components.drift import report_payload, transformed
from tfxgate.drift import columns, tables
from tfxgate.drift.check import DEFAULT_SIGNIFICANCE, DriftReport, Thresholds, compare_tables
from tfxgate.reporting import drift_html
from tfxgate.storage import filesystem

SPLIT = "train"
DRIFT = "drift"  # this span vs the previous span
PUSHED_DRIFT = "drift_vs_pushed"  # this span vs the span the pushed model was trained on


class DriftBlocked(RuntimeError):
    """Drift or skew beyond the thresholds under policy `block`."""


@dataclass
class Settings:
    """The component's parameters, as the builder serialises them (`config_json`)."""

    policy: str
    thresholds: dict
    features: dict
    serving: Optional[str] = None
    significance: float = DEFAULT_SIGNIFICANCE
    null_values: Optional[list[str]] = None  # `data.null_values`, for the serving CSV
    max_in_memory_bytes: Optional[int] = None  # `runner.max_in_memory_bytes`: unused here (splits are read in batches)
    # `runner.beam`'s flags when the runner is not the DirectRunner: the splits are summarised by a Beam job
    # there (beam_summary.py), read by its workers as Ingest's Beam engine writes them; None: in this process.
    beam_args: Optional[list[str]] = None

    def to_json(self) -> str:
        """The `config_json` the builder gives the node; no `beam_args` key on the DirectRunner (cache keys hold)."""
        values = asdict(self)
        if values["beam_args"] is None:
            del values["beam_args"]
        return json.dumps(values, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        return cls(**json.loads(text))


def comparator_thresholds(schema, *, kind: str) -> dict[str, dict[str, float]]:
    """Per-feature linf/jsd thresholds from the schema's drift_comparator/skew_comparator."""
    found: dict[str, dict[str, float]] = {}
    for feature in schema.feature:
        comparator = getattr(feature, f"{kind}_comparator")
        if comparator.HasField("infinity_norm"):
            found.setdefault(feature.name, {})["linf"] = comparator.infinity_norm.threshold
        if comparator.HasField("jensen_shannon_divergence"):
            found.setdefault(feature.name, {})["jsd"] = comparator.jensen_shannon_divergence.threshold
    return found


def thresholds_for(settings: Settings, schema, *, kind: str) -> Thresholds:
    per_feature = {name: dict(values) for name, values in settings.features.items()}
    if schema is not None:
        for name, values in comparator_thresholds(schema, kind=kind).items():
            per_feature.setdefault(name, {}).update(values)
    return Thresholds(defaults=settings.thresholds, per_feature=per_feature)


def categorical_from_schema(schema, names: set[str]) -> set[str]:
    """INT features the schema marks categorical join the string features."""
    if schema is None:
        return set()
    return {f.name for f in schema.feature if f.int_domain.is_categorical and f.name in names}


def summarise_split(
    examples_uri: str, *, schema_categorical: set[str], beam_args: Optional[list[str]] = None, scratch: str = ""
) -> tuple[columns.Summary, set[str]]:
    """The compared split's summary, read one record batch at a time (memory flat in the rows), and its strings.

    `runner.max_in_memory_bytes` no longer bounds DataDrift: it never holds the split
    (a numeric feature keeps at most `columns.MAX_DISTINCT` distinct values). With
    `beam_args` the batches are read and summarised by that Beam job's workers
    (beam_summary.py; `scratch`: the folder the summary passes through).
    """
    source = f"split {SPLIT!r} of {examples_uri}"
    if beam_args:
        from tfxgate.components.drift import beam_summary

        return beam_summary.summarise_split(
            examples_uri, SPLIT, categorical=schema_categorical, source=source, pipeline_args=beam_args, scratch=scratch
        )
    return tables.summarise(split_batches(examples_uri, SPLIT), categorical=schema_categorical, source=source)


def _schema_categorical(schema) -> set[str]:
    """The schema's categorical INT features (all of them; a feature absent from the data is never compared)."""
    if schema is None:
        return set()
    return {f.name for f in schema.feature if f.int_domain.is_categorical}


def run(
    *,
    examples_uri: str,
    examples_name: str,
    baselines: dict[str, tuple[str, str]],
    schema,
    settings: Settings,
    output_dir: str,
    transform_graph_uri: Optional[str] = None,
) -> tuple[list[DriftReport], bool]:
    """Runs the drift and skew checks; returns the reports and whether the data is blessed.

    Args:
      baselines: comparison kind (`DRIFT`: the previous span, `PUSHED_DRIFT`: the
        span the pushed model was trained on) -> (examples uri, display name);
        a kind without a baseline (first run, nothing pushed yet) is skipped.
      transform_graph_uri: Transform's graph (stages.transform): skew is then also
        measured on the transformed features (kind `skew_transformed`).

    Raises:
      ValueError: a per-feature threshold names a feature this span does not have.
      FileNotFoundError: the serving data source is gone.
    """
    schema_categorical = _schema_categorical(schema)
    on = dict(beam_args=settings.beam_args, scratch=output_dir)
    current, strings = summarise_split(examples_uri, schema_categorical=schema_categorical, **on)
    check_threshold_features(settings.features, present=set(current), examples_name=examples_name)
    categorical = strings | (schema_categorical & set(current))
    # One summary per artifact (distinct values with counts, value counts), read batch by batch, serves
    # every comparison and the report page; a baseline used by both comparisons is read once.
    # Each side keeps its own string columns: a type change is reported, not fed to a numeric measure.
    spans = {}
    reports, pairs = [], {}
    for kind in (DRIFT, PUSHED_DRIFT):
        if kind not in baselines:
            if kind == PUSHED_DRIFT:
                logging.info("no pushed model yet: drift vs the pushed model's span not checked")
            continue
        baseline_uri, baseline_name = baselines[kind]
        if baseline_uri not in spans:
            base, base_strings = summarise_split(baseline_uri, schema_categorical=schema_categorical, **on)
            spans[baseline_uri] = (base, base_strings | (schema_categorical & set(base)))
        base, base_categorical = spans[baseline_uri]
        reports.append(
            compare_tables(
                base,
                current,
                categorical=categorical,
                baseline_categorical=base_categorical,
                thresholds=thresholds_for(settings, schema, kind="drift"),
                significance=settings.significance,
                kind=kind,
                baseline_name=baseline_name,
                current_name=examples_name,
            )
        )
        pairs[kind] = (base, current)
    if settings.serving:
        serving_table = read_serving(settings.serving, null_values=settings.null_values)
        check_serving_columns(schema, set(serving_table.column_names), path=settings.serving)
        serving, serving_strings = tables.from_arrow(serving_table)
        serving = columns.Span(serving)
        reports.append(
            compare_tables(
                current,
                serving,
                categorical=serving_strings | categorical_from_schema(schema, set(serving)),
                baseline_categorical=categorical,
                thresholds=thresholds_for(settings, schema, kind="skew"),
                significance=settings.significance,
                kind="skew",
                baseline_name=examples_name,
                current_name=settings.serving,
            )
        )
        pairs["skew"] = (current, serving)
        if transform_graph_uri:
            reports.append(
                transformed_skew(
                    transform_graph_uri,
                    examples_uri=examples_uri,
                    serving_table=serving_table,
                    thresholds=thresholds_for(settings, None, kind="skew"),
                    significance=settings.significance,
                    names=(examples_name, settings.serving),
                    pairs=pairs,
                )
            )
    write_report(reports, pairs, output_dir=output_dir, policy=settings.policy)
    return reports, not any(r.flagged for r in reports)


def transformed_skew(
    transform_graph_uri: str,
    *,
    examples_uri: str,
    serving_table,
    thresholds: Thresholds,
    significance: float,
    names: tuple[str, str],
    pairs: dict,
) -> DriftReport:
    """Skew of the transformed features: the transform graph applied to this span's training split and
    to the serving sample (components/drift/transformed.py); adds the compared columns to `pairs`."""
    view = transformed.TransformedView(transform_graph_uri)
    base, base_categorical = view.summarise(
        record_batches(os.path.join(examples_uri, f"Split-{SPLIT}")),
        source=f"split {SPLIT!r} of {examples_uri}, transformed",
    )
    records = transformed.table_records(serving_table, view.raw_spec)  # the serving sample: whole, as for raw skew
    serving, serving_categorical = view.columns(records, present=set(serving_table.column_names))
    serving = columns.Span(serving)
    pairs[transformed.SKEW_TRANSFORMED] = (base, serving)
    return compare_tables(
        base,
        serving,
        categorical=serving_categorical,
        baseline_categorical=base_categorical,
        thresholds=thresholds,
        significance=significance,
        kind=transformed.SKEW_TRANSFORMED,
        baseline_name=f"{names[0]}, transformed",
        current_name=f"{names[1]}, transformed",
    )


def check_threshold_features(features: dict, *, present: set[str], examples_name: str) -> None:
    """Raises ValueError naming each `stages.drift.features` entry this span's data lacks.

    The config is checked against the schema (or the first file's header) at load;
    this catches data that changed since, e.g. a later span without the column.
    """
    missing = sorted(set(features) - present)
    if missing:
        raise ValueError(
            f"stages.drift.features: {', '.join(repr(m) for m in missing)} not in the data of {examples_name} "
            f"(its features: {', '.join(sorted(present))})"
        )


def read_serving(path: str, *, null_values: Optional[list[str]] = None):
    """The serving data source as an Arrow table; FileNotFoundError naming the key if it is gone."""
    if not filesystem.isfile(path):
        raise FileNotFoundError(f"stages.drift.serving: serving data source not found: {path}")
    return tables.read_csv(path, null_values=null_values)


def serving_features(schema) -> set[str]:
    """The features the schema expects in its SERVING environment (TFDV's environment rules)."""
    found = set()
    for feature in schema.feature:
        if feature.in_environment:
            expected = "SERVING" in feature.in_environment
        else:
            expected = not schema.default_environment or "SERVING" in schema.default_environment
        if expected and "SERVING" not in feature.not_in_environment:
            found.add(feature.name)
    return found


def check_serving_columns(schema, present: set[str], *, path: str) -> None:
    """Raises ValueError naming the SERVING features the serving sample lacks (training-only ones may be absent).

    Without a SERVING environment in the schema every feature is expected, as TFDV does.
    """
    if schema is None:
        return
    missing = sorted(serving_features(schema) - present)
    if missing:
        raise ValueError(
            f"stages.drift.serving: {path} lacks {', '.join(repr(m) for m in missing)}, expected in the schema's "
            "SERVING environment (mark a training-only feature with not_in_environment: SERVING)"
        )


# Why a drift measure can be NaN (tfxgate/drift/check.py): it never fires, and is written as null.
NOT_MEASURABLE = "not measurable: one side has no values of this feature (the missing rate covers that case)"


def write_report(reports, pairs, *, output_dir: str, policy: str) -> None:
    # The histograms go into the JSON too, so the run report can draw them again.
    documents = report_payload.payload(reports, pairs)
    filesystem.write_json(  # the output artifact: local, or on an object store (a remote pipeline root)
        os.path.join(output_dir, drift_report.DRIFT_REPORT_JSON),
        {"policy": policy, "reports": documents},
        indent=1,
        default=float,
        null_reason=NOT_MEASURABLE,
    )
    page = drift_html.render_payload(documents, title="tfxgate drift and skew report")
    filesystem.write_text(os.path.join(output_dir, drift_report.DRIFT_REPORT_HTML), page)


def apply_policy(reports: list[DriftReport], *, policy: str, report_dir: str) -> None:
    """Raises DriftBlocked under `block` when any feature drifted; logs otherwise.

    Under `block` the report files are first copied out of the (about to be
    discarded) output artifact to `drift_report.kept_dir`, and the message names that copy.
    """
    found = [f"{r.kind}: {r.describe()}" for r in reports if r.flagged]
    if not found:
        return
    if policy == "block":
        kept = drift_report.kept_dir(report_dir)
        for name in (drift_report.DRIFT_REPORT_JSON, drift_report.DRIFT_REPORT_HTML):
            filesystem.write_bytes(os.path.join(kept, name), filesystem.read_bytes(os.path.join(report_dir, name)))
        report_dir = kept
    message = (
        f"data drift beyond thresholds in {'; '.join(found)} (report: {report_dir}/{drift_report.DRIFT_REPORT_HTML})"
    )
    if policy == "block":
        raise DriftBlocked(f"{message}. Policy 'block': stopping before training, nothing is pushed.")
    logging.warning("%s (policy %r: continuing)", message, policy)
