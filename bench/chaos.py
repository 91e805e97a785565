"""Crash cycles of the whole stack while production orders run (loopback only, stops by itself).

    .venv/bin/python bench/chaos.py --cycles 100 --orders 100 --seed 1

Each cycle kills one part with SIGKILL at a random moment (seeded): the cloud worker, the edge
worker, the API or the Temporal dev server (restarted on the same SQLite file and port), and
restarts it after a short pause. At the end it waits for every instance (bounded) and prints:
instances lost, stuck or failed, machine jobs started twice, genealogy links and audit entries
written twice (all target 0), whether the audit chain verifies, and the raw activity retries
the crashes caused. The people of the shift (operators, an inspector, a supervisor) complete
every human step through the REST API (OAuth2 sign-in, inbox, claim, complete), retrying while it
is down; printed: steps completed through the API, requests that found it down, completions sent
again after a lost answer, and double completions (target 0). Exit status 1 when a target is
missed. See tests/support/chaos_stack.py and tests/support/api_people.py.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.chaos_stack import run_chaos


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--orders", type=int, default=None, help="default: as many as cycles, at least 3")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--spare-api", action="store_true",
                        help="never kill the API (it runs either way: the people work through it)")
    parser.add_argument("--keep", type=Path, default=None, help="keep data and logs in this directory")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    orders = args.orders if args.orders is not None else max(3, args.cycles)

    def log(line: str) -> None:
        if not args.quiet:
            print(line, flush=True)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # stops the stack (finally blocks) like Ctrl-C: no process left behind

    signal.signal(signal.SIGTERM, interrupted)
    with tempfile.TemporaryDirectory(prefix="mom-chaos-") as tmp:
        base = args.keep or Path(tmp)
        figures = asyncio.run(run_chaos(base, cycles=args.cycles, orders=orders, seed=args.seed,
                                        kill_api=not args.spare_api, settle_timeout_s=60.0 + 2.0 * orders, log=log))
    print(figures.table())
    met_down_api = figures.api_down_attempts > 0 or not figures.kills.get("api")  # the people felt the API kills
    return 0 if figures.clean and figures.activity_retries > 0 and met_down_api else 1


if __name__ == "__main__":
    sys.exit(main())
