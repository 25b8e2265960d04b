"""Reader of SliceEval's evaluation artifact (`report.json`, `report.html`, TFMA's format) with its ModelBlessing.

`report.json` holds the verdict, `failures` [{message, ...}], `failing_slices`,
`too_small_to_judge` and every slice x metric (`slices`, worst first), as
components/slice_eval writes it. The gate settings the evaluation was judged
by are the SliceEval execution's `settings` property (JSON of the stage).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from tfxgate.artifacts import blessing as blessings

EVALUATION_JSON = "report.json"
EVALUATION_HTML = "report.html"
# SliceEval's `evaluation` output: TFX's standard type; runs recorded before it was
# (tfxgate <= 0.1 on this store) have the old custom type.
EVALUATION_TYPES = ("ModelEvaluation", "tfxgate.SliceEvaluation")
OLD_TFMA_DIR = "tfma"  # where those older runs kept TFMA's output, below the artifact's root


def tfma_dir(uri: str) -> str:
    """The directory holding TFMA's output (eval_config.json, metrics, validations) of an evaluation.

    The artifact's root, whichever engine wrote it (SliceEval's `fast` or `beam`, or
    a stock Evaluator); `tfma/` below it for evaluations written before that.
    """
    old = Path(uri) / OLD_TFMA_DIR
    return str(old) if old.is_dir() and not (Path(uri) / "eval_config.json").exists() else uri


def evaluation_outputs(outputs: dict) -> list:
    """SliceEval's evaluation artifacts among an execution's outputs ({type name: [artifacts]}), either type."""
    return [a for name in EVALUATION_TYPES for a in outputs.get(name, [])]


@dataclass
class Evaluation:
    blessing_id: int
    blessed: bool
    message: Optional[str]
    baseline_model: Optional[str]
    report_id: Optional[int] = None
    report_uri: Optional[str] = None
    slices: list[dict] = field(default_factory=list)  # report.json rows, worst first
    failures: list[str] = field(default_factory=list)
    too_small_to_judge: list[str] = field(default_factory=list)
    thresholds: dict[str, dict] = field(default_factory=dict)  # metric -> {min, max, max_regression}, every slice
    overall_thresholds: dict[str, dict] = field(default_factory=dict)  # overall slice only
    max_gap: list[dict] = field(default_factory=list)
    min_examples: Optional[int] = None


def read(uri: str) -> Optional[dict]:
    """SliceEval's report.json in the directory `uri` (verdict, failures, every slice x metric), or None."""
    path = Path(uri) / EVALUATION_JSON
    return json.loads(path.read_text()) if path.exists() else None


def evaluation_of(blessing, *, report, settings: Optional[str]) -> Evaluation:
    """A ModelBlessing artifact, the SliceEvaluation beside it (or None) and SliceEval's `settings`."""
    found = blessings.read(blessing)
    evaluation = Evaluation(
        blessing_id=blessing.id,
        blessed=bool(found.blessed),
        message=found.message,
        baseline_model=found.baseline_model,
    )
    if report is not None:
        evaluation.report_id, evaluation.report_uri = report.id, report.uri
        data = read(report.uri) or {}
        evaluation.slices = data.get("slices", [])
        evaluation.failures = [f["message"] for f in data.get("failures", [])]
        evaluation.too_small_to_judge = data.get("too_small_to_judge", [])
    if settings:
        stage = json.loads(settings)
        evaluation.thresholds = stage.get("thresholds", {})
        evaluation.overall_thresholds = stage.get("overall", {})
        evaluation.max_gap = stage.get("max_gap", [])
        evaluation.min_examples = stage.get("min_examples")
    return evaluation
