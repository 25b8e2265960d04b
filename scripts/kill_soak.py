"""Random-kill soak of a governed push: hundreds of SIGKILLs at random instants, the invariants after each.

    .venv/bin/python scripts/kill_soak.py --seeds 500 [--first-seed 1] [--keep DIR]

Each seed runs tests/test_crash_push.py's `kill_at_random` in a fresh folder:
one model pushed, a second push SIGKILLed after a random delay, a clean rerun,
then the invariants (README "Crash safety"). Prints one line per failing seed
and a count; exits 1 if any seed broke an invariant. Not run in CI (the tests
run three seeds); a few seconds per seed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.test_crash_push import kill_at_random  # noqa: E402  (the repo root must be importable first)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep each failing seed's folder under this directory")
    args = parser.parse_args(argv)
    failed = 0
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        scratch = Path(tempfile.mkdtemp(prefix=f"kill-soak-{seed}-"))
        problems = kill_at_random(scratch / "root", scratch, seed=seed)
        if problems:
            failed += 1
            print(f"seed {seed}: {'; '.join(problems)}", flush=True)
            if args.keep:
                shutil.copytree(scratch, args.keep / f"seed-{seed}", symlinks=True)
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"kill soak: {args.seeds - failed}/{args.seeds} seeds held every invariant")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
