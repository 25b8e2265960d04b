"""The one ML Metadata layer: connecting to the store, walking its graph, writing tfxgate's audit records."""
