"""A trainer module that does not parse."""


def run_fn(fn_args)
    pass
