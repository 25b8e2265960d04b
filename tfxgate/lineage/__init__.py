"""The one walker from a pushed model (or a run) back through ML Metadata to its data and decisions."""
