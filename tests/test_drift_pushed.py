"""Drift vs the span the pushed model was trained on: the lineage walk, both comparisons, the error paths."""

from __future__ import annotations

import json

import ml_metadata as mlmd
import numpy as np
import pyarrow as pa
import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from tests import synthetic_drift
from tfxgate.components.drift import executor, pushed_span

CATEGORICAL = {"city", "channel"}


class Lineage:
    """A real (in-memory SQLite) ML Metadata store with the records TFX writes for train and push."""

    def __init__(self, tmp_path):
        config = pb.ConnectionConfig()
        config.sqlite.filename_uri = str(tmp_path / "mlmd.sqlite")
        self.store = mlmd.MetadataStore(config)
        self.types = {
            name: self.store.put_artifact_type(pb.ArtifactType(name=name))
            for name in ("Examples", "Model", "PushedModel", "ModelBlessing")
        }
        self.execution_types = {
            name: self.store.put_execution_type(pb.ExecutionType(name=name)) for name in ("Trainer", "Pusher")
        }

    def artifact(self, type_name: str, **int_props) -> int:
        artifact = pb.Artifact(type_id=self.types[type_name], uri=f"/{type_name}")
        for key, value in int_props.items():
            artifact.custom_properties[key].int_value = value
        [artifact_id] = self.store.put_artifacts([artifact])
        return artifact_id

    def execution(self, type_name: str, *, inputs: list[int], outputs: list[int]) -> None:
        execution = pb.Execution(type_id=self.execution_types[type_name], last_known_state=pb.Execution.COMPLETE)
        pairs = [(a, pb.Event(type=pb.Event.INPUT)) for a in self.store.get_artifacts_by_id(inputs)]
        pairs += [(a, pb.Event(type=pb.Event.OUTPUT)) for a in self.store.get_artifacts_by_id(outputs)]
        self.store.put_execution(execution, pairs, [])

    def train(self, examples: int) -> int:
        model = self.artifact("Model")
        self.execution("Trainer", inputs=[examples], outputs=[model])
        return model

    def push(self, model: int, *, pushed: int) -> int:
        blessing = self.artifact("ModelBlessing", blessed=1)
        out = self.artifact("PushedModel", pushed=pushed)
        self.execution("Pusher", inputs=[model, blessing], outputs=[out])
        return out


def test_nothing_pushed_yet_means_no_baseline(tmp_path):
    lineage = Lineage(tmp_path)
    assert pushed_span.pushed_model_examples_id(lineage.store) is None
    lineage.push(lineage.train(lineage.artifact("Examples")), pushed=0)
    assert pushed_span.pushed_model_examples_id(lineage.store) is None, "pushed=0 is not in production"


def test_the_pushed_models_training_examples_are_found_through_its_lineage(tmp_path):
    lineage = Lineage(tmp_path)
    span_1, span_2, span_3 = (lineage.artifact("Examples") for _ in range(3))
    model_1 = lineage.train(span_1)
    lineage.push(model_1, pushed=1)
    model_2 = lineage.train(span_2)
    lineage.push(model_2, pushed=1)  # production is now model 2, trained on span 2
    lineage.push(lineage.train(span_3), pushed=0)  # evaluated, not pushed
    lineage.execution("Trainer", inputs=[span_2], outputs=[model_2])  # a cached rerun re-publishes model 2
    assert pushed_span.latest_pushed_model_id(lineage.store) == model_2
    assert pushed_span.pushed_model_examples_id(lineage.store) == span_2
    # Another pipeline in the same store pushed model 2: this pipeline's own production model is model 1.
    assert pushed_span.pushed_model_examples_id(lineage.store, among={span_1, span_3}) == span_1


def test_pushed_span_strategy_never_returns_the_current_examples(tmp_path):
    from tfx.types import standard_artifacts

    from tfxgate.components.drift.component import CURRENT, EXAMPLES, PushedModelSpanStrategy

    lineage = Lineage(tmp_path)
    span_1 = lineage.artifact("Examples")
    lineage.push(lineage.train(span_1), pushed=1)
    artifact = standard_artifacts.Examples()
    artifact.id = span_1
    strategy = PushedModelSpanStrategy()
    resolved = strategy.resolve_artifacts(lineage.store, {EXAMPLES: [artifact], CURRENT: []})
    assert [a.id for a in resolved[EXAMPLES]] == [span_1]
    rerun = strategy.resolve_artifacts(lineage.store, {EXAMPLES: [artifact], CURRENT: [artifact]})
    assert rerun[EXAMPLES] == [], "the span the pushed model saw is this run's own: nothing to compare"


def write_examples(table: dict[str, np.ndarray], uri) -> str:
    """An Examples artifact directory (Split-train) in ExampleGen's layout, via Ingest's writer."""
    from tfxgate.components.ingest import examples as example_files
    from tfxgate.components.ingest.columns import BYTES, FLOAT

    columns, kinds = {}, {}
    for name, values in table.items():
        if values.dtype == object:
            columns[name], kinds[name] = pa.array([None if v is None else str(v) for v in values], pa.string()), BYTES
        else:
            columns[name], kinds[name] = pa.array(values.astype(float), from_pandas=True), FLOAT
    length = len(next(iter(table.values())))
    example_files.write_split(str(uri / "Split-train"), example_files.serialize(columns, kinds, length=length))
    return str(uri)


@pytest.fixture(scope="module")
def spans(tmp_path_factory):
    """previous span ~ this span (no drift); the pushed model's span is shifted in `score`."""
    root = tmp_path_factory.mktemp("spans")
    base = synthetic_drift.base_table(rows=2000, seed=0)
    current = synthetic_drift.shifted_table(base, drift={}, seed=1)
    pushed = synthetic_drift.shifted_table(base, drift={"score": "mean_shift"}, seed=2)
    return {
        name: write_examples(t, root / name)
        for name, t in (("previous", base), ("current", current), ("pushed", pushed))
    }


def settings(**changes) -> executor.Settings:
    return executor.Settings(**{"policy": "block", "thresholds": {}, "features": {}, "serving": None, **changes})


def test_both_comparisons_are_reported_and_either_one_drifting_fails_the_blessing(spans, tmp_path):
    out = tmp_path / "report"
    reports, blessed = executor.run(
        examples_uri=spans["current"],
        examples_name="span 3",
        baselines={executor.DRIFT: (spans["previous"], "span 2"), executor.PUSHED_DRIFT: (spans["pushed"], "span 1")},
        schema=None,
        settings=settings(),
        output_dir=str(out),
    )
    assert [(r.kind, r.baseline) for r in reports] == [("drift", "span 2"), ("drift_vs_pushed", "span 1")]
    assert [f.feature for f in reports[0].drifted] == []
    assert [f.feature for f in reports[1].drifted] == ["score"]
    assert blessed is False
    written = json.loads((out / "drift_report.json").read_text())
    assert [r["kind"] for r in written["reports"]] == ["drift", "drift_vs_pushed"]
    assert "drift_vs_pushed: span 1" in (out / "drift_report.html").read_text()
    with pytest.raises(executor.DriftBlocked, match=r"drift_vs_pushed: score \(.*wasserstein="):
        executor.apply_policy(reports, policy="block", report_dir=str(out))


def test_without_a_pushed_model_only_the_previous_span_is_compared(spans, tmp_path):
    reports, blessed = executor.run(
        examples_uri=spans["current"],
        examples_name="span 3",
        baselines={executor.DRIFT: (spans["previous"], "span 2")},
        schema=None,
        settings=settings(),
        output_dir=str(tmp_path),
    )
    assert [r.kind for r in reports] == ["drift"] and blessed is True


def test_threshold_for_a_feature_this_span_lacks_is_named(spans, tmp_path):
    with pytest.raises(ValueError) as err:
        executor.run(
            examples_uri=spans["current"],
            examples_name="Examples 7 (span 3, 7)",
            baselines={},
            schema=None,
            settings=settings(features={"fare": {"ks": 0.2}}),
            output_dir=str(tmp_path),
        )
    assert "stages.drift.features: 'fare' not in the data of Examples 7 (span 3, 7) (its features: " in str(err.value)
    assert not (tmp_path / "drift_report.json").exists(), "nothing half-written"


def test_serving_source_gone_at_run_time_is_named(spans, tmp_path):
    gone = tmp_path / "serving.csv"
    with pytest.raises(FileNotFoundError) as err:
        executor.run(
            examples_uri=spans["current"],
            examples_name="span 3",
            baselines={},
            schema=None,
            settings=settings(serving=str(gone)),
            output_dir=str(tmp_path / "out"),
        )
    assert str(err.value) == f"stages.drift.serving: serving data source not found: {gone}"
