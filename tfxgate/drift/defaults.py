"""The drift check's default thresholds and significance level, without numpy or scipy.

The config model (config.py) validates against these at `tfxgate check`, which
must not pay for scipy; the check itself (check.py) re-exports them.
"""

# Defaults chosen so that two samples of a few thousand rows from the same
# distribution stay well below them (tests/test_drift_check.py checks both ways).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "linf": 0.1,
    "jsd": 0.1,
    "psi": 0.2,
    "ks": 0.1,
    "wasserstein": 0.2,
    "missing": 0.05,
    "nonfinite": 0.05,
}
# Level of the Benjamini-Hochberg corrected tests (the false discovery rate of one comparison).
DEFAULT_SIGNIFICANCE = 0.05
