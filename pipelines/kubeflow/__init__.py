"""Kubeflow Pipelines: the `kubeflow:` settings, compiling a config to a KFP v2 spec, submitting it, Vertex AI."""
