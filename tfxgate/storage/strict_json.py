"""JSON that every reader accepts: no bare `NaN` or `Infinity`.

Python's `json` writes a float NaN as `NaN`, which is not JSON: `jq`, browsers
and strict parsers refuse the whole file. Every JSON file tfxgate writes
(`drift_report.json`, SliceEval's `report.json`, run summaries; `write_json`)
goes through `dumps`, which writes a
non-finite number as `null` and says why in a top-level `"nulls"` object
(JSON path -> reason), so a reader never mistakes an undefined value for a
missing one. Pure Python.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any, *, path: str = "$", nulls: dict[str, str]) -> Any:
    """`value` with every NaN/Infinity (at any depth) replaced by None, recorded in `nulls` by JSON path.

    >>> nulls = {}
    >>> finite({"psi": float("nan"), "ks": 0.1}, nulls=nulls), nulls
    ({'psi': None, 'ks': 0.1}, {'$.psi': 'NaN'})
    """
    if isinstance(value, float) and not math.isfinite(value):
        nulls[path] = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return None
    if isinstance(value, dict):
        return {key: finite(item, path=f"{path}.{key}", nulls=nulls) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item, path=f"{path}[{i}]", nulls=nulls) for i, item in enumerate(value)]
    if type(value).__module__ == "numpy" and hasattr(value, "item"):  # a numpy scalar
        return finite(value.item(), path=path, nulls=nulls)
    return value


def dumps(document: Any, *, reason: str, **kwargs: Any) -> str:
    """`document` as strict JSON; each non-finite number is null, listed under `"nulls"` with `reason`.

    Args:
      document: a JSON object (its `"nulls"` key is reserved); any other JSON value
        gets its nulls without the list of reasons (it has no place for them).
      reason: why a value of this document can be undefined, e.g. "no values on one side".
      **kwargs: passed to `json.dumps` (`indent`, `sort_keys`).

    >>> dumps({"ks": float("nan")}, reason="no values to compare")
    '{"ks": null, "nulls": {"$.ks": "NaN: no values to compare"}}'
    """
    nulls: dict[str, str] = {}
    clean = finite(document, nulls=nulls)
    if nulls and isinstance(clean, dict):
        clean["nulls"] = {path: f"{was}: {reason}" for path, was in nulls.items()}
    return json.dumps(clean, allow_nan=False, **kwargs)
