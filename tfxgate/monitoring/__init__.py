"""Serving monitoring: is the model a destination serves still fit for the traffic it sees?

`tfxgate monitor` reads a batch of serving logs (logs.py), finds the models the
destination serves and their lineage in ML Metadata (serving.py), compares the
logs with what the model was trained and evaluated on (check.py: data drift
with tfxgate/drift's measures, prediction drift, per-slice metrics with
labels: concept drift; metrics.py), records the comparison in ML Metadata
(record.py), writes the HTML and JSON reports (report.py) and applies the
config's `monitoring.on_breach` policy (policy.py). settings.py is the config
section.

Layering: the top of the core library (it reads governance and sends alerts);
the CLI wires it (tfxgate/cli/monitoring.py).
"""
