"""A trainer module that fails the way a user's bug would: the run must stop here."""


def run_fn(fn_args):
    raise RuntimeError("deliberate failure in the test trainer (tests/testdata/failing_trainer)")
