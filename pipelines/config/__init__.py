"""The pipeline YAML: its root model (assembling each component's settings), loading and `--set`."""
