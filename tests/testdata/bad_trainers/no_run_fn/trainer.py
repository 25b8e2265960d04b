"""A trainer module whose author named the entry point wrongly."""


def run(fn_args):
    pass
