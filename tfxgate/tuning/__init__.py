"""Hyperparameter search for trainer modules: `stages.tune` as a KerasTuner search (keras_search.py)."""
