"""The drift measures, as plain functions over columns: the core library's, shared by every user.

`measures.py` (PSI, KS, Wasserstein, TFDV's JSD and L-infinity), `significance.py`
(the tests behind them), `columns.py` (one span's sorted/counted columns),
`check.py` (every feature x measure between two tables), `tables.py` (Arrow ->
those tables) and `defaults.py` (thresholds, no numpy). The DataDrift component
(components/drift) and serving monitoring (tfxgate/monitoring) both call them.
Pure numpy/scipy/pyarrow; below everything but storage.
"""
