"""A run_fn TFX could not call: it takes no fn_args."""


def run_fn():
    pass
