"""The run report as one self-contained HTML page (inline CSS and SVG, no script).

Every section renders from the `RunReport` dicts alone. The drift sections and
the slice chart/table are drawn by their components' own report modules, so a
change to one of those pages shows here too. Every text from the store or the
data is escaped; a section the run did not record says "not recorded".
"""

from __future__ import annotations

import html
from typing import Optional

from tfxgate.reporting import drift_html, slice_html, transform_facts
from tfxgate.reporting.charts import timeline_svg
from tfxgate.reporting.run_facts import RunReport

NOT_RECORDED = "<p class='missing'>not recorded</p>"
SECTIONS = (
    "Stages",
    "Data",
    "Hyperparameters",
    "Transform",
    "Anomalies",
    "Drift",
    "Slice evaluation",
    "Gates",
    "Decisions",
    "Pushes",
    "Lineage",
)
_OLD_NAMES = {"Approval": "Decisions", "Push": "Pushes"}  # the sections' names before they listed every one


def render(report: RunReport, *, chart_metric: str = "binary_accuracy", minimum: Optional[float] = None) -> str:
    """The page; `chart_metric` (and its gate `minimum`) picks the per-slice chart."""
    status = report.status
    title = f"tfxgate run report: {report.pipeline} {report.run_id}"
    optional = {"Hyperparameters": report.hyperparameters, "Transform": report.transform}  # only runs that have one
    shown = [name for name in SECTIONS if optional.get(name, True) is not None]
    sections = [section(report, name, chart_metric=chart_metric, minimum=minimum) for name in shown]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>{_STYLE}{drift_html.STYLE}</style></head>
<body><h1>{_e(report.pipeline)} <small>run {_e(report.run_id)}</small></h1>
<p class="status {status.lower()}" id="status">{status} in {report.seconds:.1f} s
 &middot; metadata {_e(report.metadata)}</p>
{_why(report)}
{_key_figures(report)}
{"".join(sections)}
</body></html>
"""


def section(report: RunReport, name: str, *, chart_metric: str = "binary_accuracy", minimum=None) -> str:
    """One section of the page by its title (one of SECTIONS), e.g. for a notebook cell."""
    name = _OLD_NAMES.get(name, name)
    body = {
        "Stages": lambda: _stages(report),
        "Data": lambda: _data(report.data),
        "Hyperparameters": lambda: _hyperparameters(report.hyperparameters),
        "Transform": lambda: _transform(report.transform),
        "Anomalies": lambda: _anomalies(report.anomalies),
        "Drift": lambda: _drift(report.drift),
        "Slice evaluation": lambda: _evaluation(report.evaluation, chart_metric=chart_metric, minimum=minimum),
        "Gates": lambda: _gates(report.gates),
        "Decisions": lambda: _approvals(report.approvals),
        "Pushes": lambda: _pushes(report),
        "Lineage": lambda: _lineage(report.lineage),
    }[name]()
    return _section(name, body)


def _key_figures(report: RunReport) -> str:
    """The figures a reader looks for first: rows, bad rows, overall AUC, the decision, the push."""
    figures = []
    if report.data:
        rows = ", ".join(f"{split} {facts.get('rows', '?')}" for split, facts in report.data["splits"].items())
        figures += [("rows", rows), ("bad rows", report.data["bad_rows"])]
    overall = next((s for s in (report.evaluation or {}).get("slices", []) if s["slice"] == "Overall"), None)
    if overall and overall["metrics"].get("auc", {}).get("value") is not None:
        figures.append(("overall AUC", f"{overall['metrics']['auc']['value']:.4f}"))
    if report.evaluation:
        figures.append(("model", {None: "?", True: "BLESSED", False: "NOT blessed"}[report.evaluation["blessed"]]))
    if report.pushes:
        figures.append(
            ("pushed", ", ".join(f"{p['destination'] or '?'} version {p['version']}" for p in report.pushes))
        )
    elif report.push:
        figures.append(("pushed", "nothing"))
    cells = "".join(f"<div class='figure'><small>{_e(k)}</small><b>{_e(v)}</b></div>" for k, v in figures)
    return f"<div class='figures' id='key-figures'>{cells}</div>"


def _why(report: RunReport) -> str:
    """Why a run is BLOCKED or INCOMPLETE, under its status: what stopped it, with the anomalies or the
    drift measures that tripped its gate, or the stages that never ran."""
    parts = []
    if report.status == "INCOMPLETE" and report.never_ran:
        parts.append(f"<p>never ran: {_e(', '.join(report.never_ran))} (the run was stopped between stages)</p>")
    if report.status == "BLOCKED" and report.blocked_by:
        where = f"stopped at <b>{_e(report.stopped['stage'])}</b>" if report.stopped else "nothing pushed"
        items = "".join(f"<li>{_e(line)}</li>" for line in report.blocked_by)
        parts.append(f"<p>{where}:</p><ul>{items}</ul>")
    stopped = report.stopped or {}
    if stopped.get("anomalies"):
        rows = [[_e(a.get(k, "")) for k in ("split", "feature", "kind", "description")] for a in stopped["anomalies"]]
        parts.append("<p>anomalies with policy fail:</p>" + _table(["split", "feature", "kind", "description"], rows))
    if stopped.get("drift"):
        rows = [
            [
                _e(d["kind"]),
                _e(d["feature"]),
                _e(d["measure"]),
                drift_html.number(d["value"]),
                drift_html.number(d["threshold"]),
            ]
            for d in stopped["drift"]
        ]
        parts.append(
            "<p>drift measures over their thresholds:</p>"
            + _table(["comparison", "feature", "measure", "value", "threshold"], rows)
        )
    return f"<div id='stopped'>{''.join(parts)}</div>" if parts else ""


def _e(value) -> str:
    return html.escape(str(value))


def _section(title: str, body: str) -> str:
    anchor = title.lower().replace(" ", "-")
    return f"<section id='{anchor}'><h2>{_e(title)}</h2>{body}</section>\n"


def _table(head: list[str], rows: list[list[str]]) -> str:
    """A table of already-escaped cells."""
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{header}</tr>{body}</table>"


def _stages(report: RunReport) -> str:
    if not report.stages:
        return NOT_RECORDED
    rows = [
        [
            _e(s["node"]),
            _e(s["state"]),
            f"{s['start']:.1f}",
            f"{s['seconds']:.1f}",
            "yes" if s["state"] == "cached" else "",
        ]
        for s in report.stages
    ]
    rows += [[_e(node), "<b class='fail'>never ran</b>", "", "", ""] for node in report.never_ran]
    table = _table(["stage", "state", "started at (s)", "seconds", "cache hit"], rows)
    return timeline_svg(report.stages) + table


def _hyperparameters(found: Optional[dict]) -> str:
    """The Trainer's best hyperparameters (stages.tune) and the trials of the search, when this run searched."""
    if found is None:
        return "<p>not tuned (no stages.tune)</p>"
    how = "searched in this run" if found["tuned"] else "reused from an earlier run's search (stages.tune.rerun)"
    values = found["values"] or {}
    rows = [[_e(name), _e(value)] for name, value in sorted(values.items())]
    parts = [f"<p>HyperParameters artifact {found['artifact_id']}: {how}</p>", _table(["hyperparameter", "best"], rows)]
    if found["trials"]:
        names = sorted({k for t in found["trials"] for k in t} - {"trial_id", "score"})
        trials = [[_e(t.get("trial_id")), _e(t.get("score")), *(_e(t.get(n)) for n in names)] for t in found["trials"]]
        parts.append(_table(["trial", "score", *names], trials))
    return "".join(parts)


def _data(data: Optional[dict]) -> str:
    if data is None:
        return NOT_RECORDED
    rows = [
        [_e(split), _e(facts.get("rows", "")), _e(facts.get("examples", "")), _e(facts.get("features", ""))]
        for split, facts in data["splits"].items()
    ]
    parts = [
        f"<p>span {_e(data['span'])} &middot; rows read {_e(data['rows_read'])} &middot; "
        f"bad rows (quarantined) <b class='bad-rows'>{_e(data['bad_rows'])}</b></p>",
        _table(["split", "rows", "examples in statistics", "features"], rows),
    ]
    files = [[_e(path), f"<code>{_e(digest)[:16]}</code>"] for path, digest in data["input_files"].items()]
    if files:
        parts.append(_table(["input file", "sha256"], files))
    if data["quarantined"]:
        bad = [
            [_e(r.get("file")), _e(r.get("row")), _e(r.get("column")), _e(r.get("reason"))] for r in data["quarantined"]
        ]
        parts.append("<p>first quarantined rows:</p>" + _table(["file", "row", "column", "reason"], bad))
    if data["quarantine"]:
        parts.append(f"<p>quarantine: <code>{_e(data['quarantine'])}</code></p>")
    return "".join(parts)


def _transform(transform: Optional[dict]) -> str:
    if transform is None:
        return "<p class='missing'>no Transform stage in this run</p>"
    parts = [f"<p>{_e(transform_facts.headline(transform))}</p>"]
    for title, examples, rows in transform_facts.sides(transform):
        parts.append(f"<p>{_e(title)}: {_e(examples)} examples</p>")
        parts.append(_table(transform_facts.STATISTICS_HEADER, [[_e(cell) for cell in row] for row in rows]))
    return "".join(parts)


_POLICY_VERDICT = {"fail": "<b class='fail'>FAILED</b>", "warn": "warned", "ignore": "ignored"}


def _anomalies(anomalies: Optional[dict]) -> str:
    if anomalies is None:
        return NOT_RECORDED
    verdict = {None: "", True: "passed", False: "FAILED"}[anomalies["blessed"]]
    parts = [f"<p>validation {verdict}</p>" if verdict else ""]
    if anomalies["summary"] is not None:
        rows = [
            [_POLICY_VERDICT.get(a.get("policy"), _e(a.get("policy", "")))]
            + [_e(a.get(k, "")) for k in ("split", "feature", "kind", "policy", "description")]
            for a in anomalies["summary"]
        ]
        head = ["result", "split", "feature", "kind", "policy", "description"]
        parts.append(_table(head, rows) if rows else "<p>no anomalies</p>")
        return "".join(parts)
    rows = [[_e(split), _e(item)] for split, items in anomalies["by_split"].items() for item in items]
    parts.append(_table(["split", "anomaly"], rows) if rows else "<p>no anomalies</p>")
    return "".join(parts)


def _drift(drift: Optional[dict]) -> str:
    if drift is None:
        return NOT_RECORDED
    verdict = {None: "", True: "passed", False: "BLOCKED"}[drift["blessed"]]
    unmeasured = sum(drift_html.not_measurable(r) for r in drift["reports"])
    na = f"; {unmeasured} measures n/a (not measurable, never a pass)" if unmeasured else ""
    parts = [f"<p>drift {verdict} (policy {_e(drift['policy'])}){na}</p>"]
    if not drift["reports"]:
        parts.append("<p>nothing to compare: no previous span and no serving data</p>")
    parts += [drift_html.report_section(r) for r in drift["reports"]]
    return "".join(parts)


def _evaluation(evaluation: Optional[dict], *, chart_metric: str, minimum: Optional[float]) -> str:
    if evaluation is None:
        return NOT_RECORDED
    verdict = {None: "", True: "BLESSED", False: "NOT blessed"}[evaluation["blessed"]]
    parts = [f"<p>model <b>{verdict}</b>: {_e(evaluation.get('headline') or '')}</p>"]
    if evaluation.get("model_id") is not None:
        parts.append(f"<p>model {evaluation['model_id']}</p>")
    if evaluation.get("baseline_model"):
        named = f"model {evaluation['baseline_model_id']} " if evaluation.get("baseline_model_id") else ""
        parts.append(f"<p>baseline: {named}<code>{_e(evaluation['baseline_model'])}</code></p>")
    if "slices" not in evaluation:
        return "".join(parts)
    metric = chart_metric if chart_metric in evaluation["metrics"] else evaluation["metrics"][-1]
    failures = "".join(f"<li>{_e(f['message'])}</li>" for f in evaluation["failures"])
    parts.append(f"<ul>{failures}</ul>" if failures else "<p>no gate failed</p>")
    parts.append(slice_html.chart_svg(evaluation["slices"], metric, minimum=minimum))
    parts.append("<p>slices worst first; the change vs the baseline in brackets, failed gates red</p>")
    parts.append(f"<div class='wide'>{slice_html.slices_table(evaluation)}</div>")
    return "".join(parts)


def _gates(gates: Optional[dict]) -> str:
    if not gates:
        return NOT_RECORDED
    rows = [
        [_e(name), "passed" if g.get("passed") else "<b class='fail'>FAILED</b>", _e(g.get("detail", ""))]
        for name, g in gates.items()
    ]
    return _table(["gate", "result", "detail"], rows)


def _approvals(records: list[dict]) -> str:
    if not records:
        return NOT_RECORDED
    rows = [[_e(r[k] or "") for k in ("kind", "destination", "version", "at", "by", "reason")] for r in records]
    return _table(["decision", "destination", "version", "at", "by", "reason"], rows)


def _pushes(report: RunReport) -> str:
    """Every version pushed: automatically by the run, and later on approval."""
    if not report.pushes:
        return NOT_RECORDED if report.push is None else "<p>not pushed</p>"
    items = []
    for p in report.pushes:
        name = f" ({_e(p['destination'])})" if p["destination"] else ""
        how = {"automatic": "automatic", "approved": "approved"}.get(p["how"], p["how"])
        who = f", by {_e(p['by'])}" if p["by"] else ""
        when = f" at {_e(p['at'])}" if p["at"] else ""
        gone = " <b class='fail'>(version directory gone)</b>" if p["state"] == "failed" else ""
        items.append(
            f"<li>pushed{name} version {_e(p['version'])} to <code>{_e(p['path'])}</code> &middot; "
            f"{_e(how)}{who}{when}{gone}</li>"
        )
    return f"<ul class='pushes'>{''.join(items)}</ul>"


def _lineage(steps: list[dict]) -> str:
    if not steps:
        return NOT_RECORDED

    def names(artifacts: list[dict]) -> str:
        return "<br>".join(
            f"<b>{_e(a['type'])}</b> {_e(a.get('key', ''))} (artifact {a['id']}"
            + (", from an earlier run" if a.get("earlier") else "")
            + f")<br><code>{_e(a['uri'])}</code>"
            for a in artifacts
        )

    rows = [[_e(s["node"]), names(s["reads"]) or "-", names(s["writes"]) or "-"] for s in steps]
    return "<p>each artifact: its type, the stage's name for it, its ML Metadata id and where it is</p>" + _table(
        ["stage", "reads", "writes"], rows
    )


_STYLE = """
body{font-family:sans-serif;margin:1.5em;max-width:1100px;color:#222} h1 small{color:#666;font-weight:normal}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}
th{background:#f4f6f7;text-align:left} section{border-top:1px solid #ddd;margin-top:1em}
.status.succeeded{color:#1e8449;font-weight:bold} .status.failed{color:#b00;font-weight:bold}
.status.blocked,.status.incomplete{color:#b9770e;font-weight:bold}
.figures{display:flex;gap:1em;flex-wrap:wrap} .figure{border:1px solid #ccc;border-radius:4px;padding:4px 10px}
.figure small{display:block;color:#666} .wide{overflow-x:auto} .missing{color:#888;font-style:italic}
.fail,td.fail{background:#f5b7b1} code{font-size:12px}
"""
