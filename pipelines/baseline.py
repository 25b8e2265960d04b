"""Finding the baseline model: the latest blessed model that is not the candidate.

TFX's stock `LatestBlessedModelStrategy` returns the newest blessed model in the
pipeline. On a rerun of an unchanged pipeline the Trainer is served from cache,
so the "candidate" *is* that newest blessed model: the Evaluator then receives a
new input (itself as baseline), misses its cache, evaluates two identical models
and the Pusher pushes the same model again. Excluding the candidate makes an
unchanged rerun fully cached and keeps "baseline" meaning "the model in
production before this one".
"""

from typing import Dict, List, Optional

from tfx import types
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy

MODEL = "model"
MODEL_BLESSING = "model_blessing"
CANDIDATE = "candidate"


class LatestBlessedOtherModelStrategy(LatestBlessedModelStrategy):
    """Resolves the latest blessed Model (and its blessing) other than `candidate`.

    Inputs: `model` (all Models), `model_blessing` (all ModelBlessings) and
    `candidate` (this run's Trainer output). Outputs `model` and `model_blessing`.
    """

    def resolve_artifacts(
        self, store, input_dict: Dict[str, List[types.Artifact]]
    ) -> Optional[Dict[str, List[types.Artifact]]]:
        candidate = list(input_dict.get(CANDIDATE, []))
        excluded = {artifact.id for artifact in candidate}
        models = [m for m in input_dict.get(MODEL, []) if m.id not in excluded]
        blessings = list(input_dict.get(MODEL_BLESSING, []))
        result = {MODEL: [], MODEL_BLESSING: []}
        if models and blessings:
            result = self._resolve({MODEL: models, MODEL_BLESSING: blessings}, MODEL, MODEL_BLESSING)
        # A Resolver's outputs mirror its inputs: the candidate passes through.
        result[CANDIDATE] = candidate
        return result
