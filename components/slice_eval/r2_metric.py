"""R² (coefficient of determination) as a TFMA metric: 1 - squared error / the label's variance, per slice.

TFMA 0.47 has no R² (its `SquaredPearsonCorrelation` is the squared correlation,
which ignores bias and scale), and Keras' `R2Score` cannot run under TFMA's
Keras wrapper (it creates its weights on the first batch). This is TFMA's own
metric pattern (see `squared_pearson_correlation.py`): a Beam combiner over
(label, prediction, weight) that sums what R² needs in one pass. The
EvalConfig names it by class and this module (`tfma_config.metrics_specs`).
"""

from __future__ import annotations

from typing import Optional

import apache_beam as beam
from tensorflow_model_analysis.metrics import metric_types, metric_util

NAME = "r2"


class CoefficientOfDetermination(metric_types.Metric):
    """R² = 1 - Σw(y - p)² / Σw(y - ȳ)²; NaN where every label is the same."""

    def __init__(self, name: str = NAME):
        super().__init__(metric_util.merge_per_key_computations(_computations), name=name)


metric_types.register_metric(CoefficientOfDetermination)


def _computations(
    name: str = NAME,
    eval_config=None,
    model_name: str = "",
    output_name: str = "",
    sub_key=None,
    aggregation_type=None,
    class_weights=None,
    example_weighted: bool = False,
):
    key = metric_types.MetricKey(
        name=name, model_name=model_name, output_name=output_name, sub_key=sub_key, example_weighted=example_weighted
    )
    combiner = _Combiner(key, eval_config, aggregation_type, class_weights, example_weighted)
    return [metric_types.MetricComputation(keys=[key], preprocessors=None, combiner=combiner)]


class _Combiner(beam.CombineFn):
    """Accumulates [Σw, Σw·y, Σw·y², Σw·(y - p)²]."""

    def __init__(self, key, eval_config, aggregation_type, class_weights, example_weighted: bool):
        self._key = key
        self._options = {
            "eval_config": eval_config,
            "model_name": key.model_name,
            "output_name": key.output_name,
            "aggregation_type": aggregation_type,
            "class_weights": class_weights,
            "example_weighted": example_weighted,
        }

    def create_accumulator(self) -> list[float]:
        return [0.0, 0.0, 0.0, 0.0]

    def add_input(self, accumulator: list[float], element) -> list[float]:
        for label, prediction, weight in metric_util.to_label_prediction_example_weight(element, **self._options):
            w, y, p = float(weight), float(label), float(prediction)
            accumulator[0] += w
            accumulator[1] += w * y
            accumulator[2] += w * y * y
            accumulator[3] += w * (y - p) ** 2
        return accumulator

    def merge_accumulators(self, accumulators) -> list[float]:
        merged = self.create_accumulator()
        for accumulator in accumulators:
            merged = [a + b for a, b in zip(merged, accumulator, strict=True)]
        return merged

    def extract_output(self, accumulator: list[float]) -> dict:
        return {self._key: r2(*accumulator)}


def r2(weight: float, label_sum: float, label_square_sum: float, squared_error: float) -> Optional[float]:
    """R² from the sums; NaN without examples or when the labels do not vary."""
    if weight <= 0:
        return float("nan")
    total = label_square_sum - label_sum * label_sum / weight
    return 1.0 - squared_error / total if total > 1e-12 * max(1.0, label_square_sum) else float("nan")
