"""Pipeline assembly and running: config -> TFX pipeline -> local or Kubeflow runner."""
