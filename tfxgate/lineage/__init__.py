"""The one lineage walker: from a pushed model back through ML Metadata to its data and decisions.

`evidence.py` is the walker (Model -> trainer run, examples, schema, statistics,
anomalies, drift, evaluation, pushes, governance records); `tree.py` finds the
model behind a pushed version and draws the walk for `tfxgate lineage`. What
one run's executions read and wrote (the run report's table) is a plain graph
query, `tfxgate.mlmd.graph.Graph.reads_and_writes`.
"""
