"""SliceEval: per-slice evaluation and gating on TFMA (see README.md)."""
