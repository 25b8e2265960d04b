"""What the DataDrift component does when it runs (thin: read, check, write, decide).

The pure work is in check.py (measures per feature), report_html.py (the page)
and tables.py (reading data). This module picks the thresholds (config defaults,
per-feature overrides, and the schema's TFDV comparators for linf/jsd), writes
`drift_report.json` + `drift_report.html`, sets the blessing and applies the
policy: `block` raises, naming the drifted features, so the run stops before
the Trainer and nothing is pushed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from typing import Optional

from tfxgate.components.drift import report_html, tables
from tfxgate.components.drift.check import DriftReport, Thresholds, compare_tables

SPLIT = "train"


class DriftBlocked(RuntimeError):
    """Drift or skew beyond the thresholds under policy `block`."""


@dataclass
class Settings:
    """The component's parameters, as the builder serialises them (`config_json`)."""

    policy: str
    thresholds: dict
    features: dict
    serving: Optional[str] = None

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


def run(
    *,
    examples_uri: str,
    examples_name: str,
    baseline_uri: Optional[str],
    baseline_name: str,
    schema,
    settings: Settings,
    output_dir: str,
) -> tuple[list[DriftReport], bool]:
    """Runs the drift and skew checks; returns the reports and whether the data is blessed."""
    current, categorical = tables.from_arrow(tables.read_examples_split(os.path.join(examples_uri, f"Split-{SPLIT}")))
    categorical |= categorical_from_schema(schema, set(current))
    reports, pairs = [], {}
    if baseline_uri is not None:
        base, _ = tables.from_arrow(tables.read_examples_split(os.path.join(baseline_uri, f"Split-{SPLIT}")))
        reports.append(
            compare_tables(
                base,
                current,
                categorical=categorical,
                thresholds=thresholds_for(settings, schema, kind="drift"),
                kind="drift",
                baseline_name=baseline_name,
                current_name=examples_name,
            )
        )
        pairs["drift"] = (base, current)
    if settings.serving:
        serving, _ = tables.from_arrow(tables.read_csv(settings.serving))
        reports.append(
            compare_tables(
                current,
                serving,
                categorical=categorical,
                thresholds=thresholds_for(settings, schema, kind="skew"),
                kind="skew",
                baseline_name=examples_name,
                current_name=settings.serving,
            )
        )
        pairs["skew"] = (current, serving)
    write_report(reports, pairs, output_dir=output_dir, policy=settings.policy)
    drifted = [f.feature for r in reports for f in r.drifted]
    return reports, not drifted


def write_report(reports, pairs, *, output_dir: str, policy: str) -> None:
    os.makedirs(output_dir, exist_ok=True)
    # The histograms go into the JSON too, so the run report can draw them again.
    documents = report_html.payload(reports, pairs)
    with open(os.path.join(output_dir, "drift_report.json"), "w") as handle:
        json.dump({"policy": policy, "reports": documents}, handle, indent=1, default=float)
    page = report_html.render_payload(documents, title="tfxgate drift and skew report")
    with open(os.path.join(output_dir, "drift_report.html"), "w") as handle:
        handle.write(page)


def kept_report_dir(report_uri: str) -> str:
    """Where a blocked run's report is kept: TFX deletes a failed execution's outputs.

    `<root>/artifacts/DataDrift/drift_report/<id>` -> `<root>/artifacts/DataDrift/blocked/<id>`.
    """
    component_dir, execution = os.path.split(os.path.dirname(report_uri.rstrip("/")))[0], os.path.basename(report_uri)
    return os.path.join(component_dir, "blocked", execution)


def apply_policy(reports: list[DriftReport], *, policy: str, report_dir: str) -> None:
    """Raises DriftBlocked under `block` when any feature drifted; logs otherwise.

    Under `block` the report files are first copied out of the (about to be
    discarded) output artifact to `kept_report_dir`, and the message names that copy.
    """
    found = [f"{r.kind}: {r.describe()}" for r in reports if r.drifted]
    if not found:
        return
    if policy == "block":
        kept = kept_report_dir(report_dir)
        shutil.copytree(report_dir, kept, dirs_exist_ok=True)
        report_dir = kept
    message = f"data drift beyond thresholds in {'; '.join(found)} (report: {report_dir}/drift_report.html)"
    if policy == "block":
        raise DriftBlocked(f"{message}. Policy 'block': stopping before training, nothing is pushed.")
    logging.warning("%s (policy %r: continuing)", message, policy)
