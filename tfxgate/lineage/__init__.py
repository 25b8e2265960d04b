"""The one lineage walker: from a pushed model back through ML Metadata to its data and decisions.

`evidence.py` is the walker (Model -> trainer run, examples, schema, statistics,
anomalies, drift, evaluation, pushes, governance records). Drawing it for
`tfxgate lineage` (and finding the model behind a pushed version) is
`tfxgate/reporting/lineage_tree.py`; what one run's executions read and wrote
(the run report's table) is a plain graph query,
`tfxgate.mlmd.graph.Graph.reads_and_writes`.
"""
