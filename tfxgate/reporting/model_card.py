"""The model card written beside every pushed model: `model_card.md` and `model_card.html`.

Built only from the evidence in ML Metadata (`tfxgate.lineage.evidence.collect`) and
the people-written `stages.push.model_card` section of the config (intended
use, limitations, owners). It never reads the environment or the metadata
connection, so no credential can reach it. The governed push calls `write`
inside its temporary version directory, before the atomic rename, so a
version never appears without its card:

    evidence = collect(store, model_artifact_id=model.id).with_decision(push_record)
    model_card.write(tmp_version_dir, evidence=evidence, card_info=config.stages.push.model_card)
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from tfxgate import storage
from tfxgate.lineage.evidence import Evidence
from tfxgate.mlmd import audit
from tfxgate.reporting import text, transform_facts
from tfxgate.reporting.document import Bullets, Document, Paragraph, Section, Table, to_html, to_markdown
from tfxgate.reporting.model_card_settings import ModelCardInfo

MARKDOWN, HTML = "model_card.md", "model_card.html"
GATE_ORDER = ("ingestion", "validation", "drift", "evaluation")


def write(
    out_dir: Union[str, Path], *, evidence: Evidence, card_info: Union[ModelCardInfo, dict, None]
) -> tuple[Path, Path]:
    """Writes model_card.md and model_card.html into `out_dir` (created if missing).

    Args:
      out_dir: the version directory (the governed push's temporary one).
      evidence: from `evidence.collect`, plus the decision being made (`with_decision`).
      card_info: `config.stages.push.model_card` (or its dict, as a component parameter).

    Returns:
      The paths of the Markdown and HTML files. Each is written to a temporary
      name and renamed, so a reader never sees half a card.
    """
    info = card_info if isinstance(card_info, ModelCardInfo) else ModelCardInfo.model_validate(card_info or {})
    document = card(evidence, info)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return storage.write_text(out / MARKDOWN, to_markdown(document)), storage.write_text(out / HTML, to_html(document))


def card(evidence: Evidence, info: ModelCardInfo) -> Document:
    """The card as a document (sections in the order a reviewer reads them)."""
    version = _version(evidence)
    title = f"Model card: {evidence.pipeline or 'pipeline'} version {version or '(not pushed yet)'}"
    return Document(
        title,
        [
            _overview(evidence, version),
            Section("Intended use", [Paragraph(info.intended_use or "Not stated in stages.push.model_card.")]),
            Section("Limitations", [Bullets(info.limitations) if info.limitations else Paragraph("None stated.")]),
            Section("Owners", [Bullets(info.owners) if info.owners else Paragraph("Not stated.")]),
            _data(evidence),
            _schema(evidence),
            _transform(evidence),
            _drift(evidence),
            _evaluation(evidence),
            _baseline(evidence),
            _gates(evidence),
            _approval(evidence),
        ],
    )


def _version(evidence: Evidence) -> Optional[str]:
    """The version this card describes: the latest governed push (the one being made, when the
    governed push adds its decision), else the latest push MLMD records."""
    governed = [g.version for g in evidence.governance if g.kind == audit.PUSH and g.version]
    pushed = [p.version for p in evidence.pushes if p.pushed and p.version]
    return (governed or pushed or [None])[-1]


def _overview(evidence: Evidence, version: Optional[str]) -> Section:
    trainer = evidence.trainer
    items = [f"Model artifact {evidence.model_id}: {evidence.model_uri}"]
    if trainer is not None:
        items.append(f"Trained by {trainer.component} in run {trainer.run_id}, {trainer.started} to {trainer.finished}")
    if evidence.evaluation is not None:
        items.append(f"Evaluation: {text.evaluation_headline(evidence.evaluation)}")
    decision = evidence.approval
    if decision is not None:
        items.append(f"Decision: {text.decision_text(decision)}")
    return Section("Overview", [Bullets(items)])


def _data(evidence: Evidence) -> Section:
    section = Section("Training data")
    examples = evidence.examples
    if examples is None:
        section.blocks.append(Paragraph("No Examples artifact is recorded as the trainer's input."))
        return section
    section.blocks.append(Paragraph(text.examples_text(examples)))
    if examples.rows_read is not None:
        section.blocks.append(Paragraph(f"Rows read: {examples.rows_read}; quarantined bad rows: {examples.bad_rows}"))
    files = [[path, digest] for path, digest in sorted(examples.input_files.items())]
    if files:
        section.blocks.append(Table(["input file", "sha256"], files))
    elif examples.input_fingerprint:
        section.blocks.append(Paragraph(f"Input fingerprint: {examples.input_fingerprint}"))
    if evidence.statistics is not None:
        rows = [[split, str(s["examples"]), str(s["features"])] for split, s in evidence.statistics.splits.items()]
        section.blocks.append(Table(["split", "examples (statistics)", "features"], rows))
    return section


def _schema(evidence: Evidence) -> Section:
    section = Section("Schema and validation")
    schema = evidence.schema
    if schema is None or schema.features is None:
        section.blocks.append(Paragraph("No schema recorded."))
    else:
        section.blocks.append(Paragraph(f"{schema.feature_count} features (schema artifact {schema.artifact_id})."))
        section.blocks.append(Table(["feature", "type"], [[f["name"], f["type"]] for f in schema.features]))
    anomalies = evidence.anomalies
    if anomalies is not None:
        verdict = "passed" if anomalies.passed else "FAILED"
        section.blocks.append(Paragraph(f"Validation {verdict}: {len(anomalies.anomalies)} anomalies."))
        if anomalies.anomalies:
            rows = [[a["split"], a["feature"], a["description"]] for a in anomalies.anomalies]
            section.blocks.append(Table(["split", "feature", "anomaly"], rows))
    return section


def _transform(evidence: Evidence) -> Section:
    if evidence.transform is None:
        return Section("Feature transform", [Paragraph("No Transform stage: the trainer module reads raw features.")])
    section = Section("Feature transform", [Paragraph(transform_facts.headline(evidence.transform))])
    section.blocks.append(Paragraph("The pushed model applies this graph to raw tf.Examples (training = serving)."))
    for title, examples, rows in transform_facts.sides(evidence.transform):
        section.blocks.append(Paragraph(f"{title.capitalize()}: {examples} examples."))
        section.blocks.append(Table(transform_facts.STATISTICS_HEADER, rows))
    return section


def _drift(evidence: Evidence) -> Section:
    drift = evidence.drift
    if drift is None:
        return Section("Drift", [Paragraph("Drift was not checked (no drift stage in this run).")])
    section = Section("Drift", [Paragraph(text.drift_text(drift))])
    for comparison in drift.comparisons:
        worst = comparison.get("worst")
        if worst:
            closest = (
                f"{worst['feature']} {worst['measure']} {text.number(worst['value'])} (threshold {worst['threshold']})"
            )
            section.blocks.append(
                Paragraph(f"{comparison['kind']} vs {comparison['baseline']}: closest to its threshold: {closest}")
            )
        rows = [
            [d["feature"], ", ".join(f"{m} {text.number(v)} (max {t})" for m, (v, t) in d["fired"].items())]
            for d in comparison["drifted"]
        ]
        if rows:
            section.blocks.append(
                Table(["feature", "measures over threshold"], rows, failed_rows=set(range(len(rows))))
            )
    return section


def _evaluation(evidence: Evidence) -> Section:
    evaluation = evidence.evaluation
    if evaluation is None:
        return Section("Evaluation", [Paragraph("No evaluation of this model is recorded.")])
    section = Section("Evaluation per slice", [Paragraph(text.evaluation_headline(evaluation), strong=True)])
    gates = [f"{m}: {text.gate_text(g)} (every slice)" for m, g in evaluation.thresholds.items()]
    gates += [f"{m}: {text.gate_text(g)} (overall only)" for m, g in evaluation.overall_thresholds.items()]
    gates += [f"gap in {g['metric']} across {', '.join(g['slice'])}: at most {g['max']}" for g in evaluation.max_gap]
    if evaluation.min_examples is not None:
        gates.append(f"slices with fewer than {evaluation.min_examples} examples are reported, not gated")
    section.blocks.append(Bullets(gates or ["no gates configured"]))
    rows, failed = [], set()
    for row in text.slice_gates(evaluation):
        for check in row.checks or [None]:
            if row.status == "failed":
                failed.add(len(rows))
            rows.append(
                [
                    row.slice,
                    row.status,
                    text.number(row.examples),
                    check.metric if check else "",
                    text.number(check.value) if check else "",
                    check.gate if check else "",
                    text.number(check.baseline) if check and check.baseline is not None else "",
                    f"{check.delta:+.4f}" if check and check.delta is not None else "",
                    ", ".join(check.failed) if check else "",
                ]
            )
    section.blocks.append(Paragraph("Slices, worst first:"))
    section.blocks.append(
        Table(
            ["slice", "status", "examples", "metric", "value", "threshold", "baseline", "change", "failed"],
            rows,
            failed,
        )
    )
    if evaluation.failures:
        section.blocks.append(Bullets(evaluation.failures))
    return section


def _baseline(evidence: Evidence) -> Section:
    evaluation = evidence.evaluation
    if evaluation is None or not evaluation.baseline_model:
        return Section("Baseline comparison", [Paragraph("No baseline: this was judged on absolute thresholds only.")])
    overall = next((r for r in evaluation.slices if r["slice"] == text.OVERALL), None)
    rows = []
    for metric, entry in (overall or {}).get("metrics", {}).items():
        delta = "" if entry.get("delta") is None else f"{entry['delta']:+.4f}"
        rows.append([metric, text.number(entry.get("value")), text.number(entry.get("baseline")), delta])
    blocks = [Paragraph(f"Baseline model: {evaluation.baseline_model}")]
    if rows:
        blocks.append(Table(["metric (overall)", "this model", "baseline", "change"], rows))
    return Section("Baseline comparison", blocks)


def _gates(evidence: Evidence) -> Section:
    """The gates as the push recorded them; without a push record, as the evidence shows them."""
    recorded = [g for g in evidence.governance if g.gate_results]
    if recorded:
        gates = recorded[-1].gate_results
        source = f"as recorded by the {recorded[-1].decision.replace('_', ' ')}"
    else:
        gates = _gates_from_evidence(evidence)
        source = "from the evidence (no push record with gate results)"
    names = [n for n in GATE_ORDER if n in gates] + sorted(n for n in gates if n not in GATE_ORDER)
    rows = [[n, "passed" if gates[n].get("passed") else "FAILED", str(gates[n].get("detail", ""))] for n in names]
    failed = {i for i, n in enumerate(names) if not gates[n].get("passed")}
    return Section("Gates", [Paragraph(f"Gate results {source}:"), Table(["gate", "result", "detail"], rows, failed)])


def _gates_from_evidence(evidence: Evidence) -> dict[str, dict]:
    """The gates' rule (tfxgate.governance.gates): a missing artifact is a failed gate."""

    def recorded(part, what: str) -> str:
        return f"{what} artifact {part}" if part is not None else f"no {what} recorded"

    found = {
        "ingestion": (evidence.examples is not None, recorded(_id(evidence.examples), "Examples")),
        "validation": (
            bool(evidence.anomalies and evidence.anomalies.passed),
            recorded(_id(evidence.anomalies), "anomalies"),
        ),
        "drift": (
            bool(evidence.drift and evidence.drift.blessed),
            recorded(evidence.drift and evidence.drift.blessing_id, "drift blessing"),
        ),
        "evaluation": (
            bool(evidence.evaluation and evidence.evaluation.blessed),
            recorded(_id(evidence.evaluation, "blessing_id"), "model blessing"),
        ),
    }
    return {name: {"passed": passed, "detail": detail} for name, (passed, detail) in found.items()}


def _id(part, name: str = "artifact_id") -> Optional[int]:
    return getattr(part, name) if part is not None else None


def _approval(evidence: Evidence) -> Section:
    decisions = [text.decision_text(g) for g in evidence.governance]
    return Section("Approval and history", [Bullets(decisions) if decisions else Paragraph("No decision recorded.")])
