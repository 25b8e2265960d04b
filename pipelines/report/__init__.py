"""The HTML run report (`tfxgate report`): what one run did, read back from ML Metadata.

`collect` gathers the facts (stages, data, anomalies, drift, slices, governance,
lineage) into plain dicts; `lineage` walks MLMD's events; `page` and `charts`
turn the facts into one self-contained HTML file (inline CSS and SVG, no script,
no network). Collection never imports TensorFlow, so the command is quick.
"""
