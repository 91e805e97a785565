"""FEEL conformance: camunda/feel-scala's test expectations (bench/feel/feel_scala_corpus.jsonl, extracted
by bench/feel/extract_corpus.py) and the DMN TCK's FEEL test cases (bench/feel/dmn_tck_corpus.jsonl, by
bench/feel/extract_dmn_tck.py) run through ``mom feel --batch`` as a client would, and the pass rate
printed per category (the feel-scala test file or TCK directory the cases came from) and overall.
feel-scala is the reference implementation of Camunda 8's dialect; the TCK tests standard DMN FEEL,
where Camunda 8 differs in places (it answers null where the TCK expects some conversions).

    PYTHONPATH=$PWD .venv/bin/python bench/feel_conformance.py            # through mom feel --batch
    PYTHONPATH=$PWD .venv/bin/python bench/feel_conformance.py --module   # in process (faster)
    ... --failures CATEGORY    also list that category's failing cases (ALL for every one)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mom.feel.conformance import CLOCK, Tally, evaluate_case, load, passes  # noqa: E402

CORPORA = [ROOT / "bench" / "feel" / "feel_scala_corpus.jsonl", ROOT / "bench" / "feel" / "dmn_tck_corpus.jsonl"]


def outcomes_by_cli(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines = "".join(json.dumps(case) + "\n" for case in cases)
    result = subprocess.run([sys.executable, "-m", "mom.cli", "feel", "--batch", "-", "--now", CLOCK.isoformat()],
                            input=lines, capture_output=True, text=True, cwd=ROOT, timeout=600,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    if result.returncode != 0:
        raise SystemExit(f"mom feel --batch failed ({result.returncode}): {result.stderr[-2000:]}")
    outcomes = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    if len(outcomes) != len(cases):
        raise SystemExit(f"mom feel --batch answered {len(outcomes)} lines for {len(cases)} cases")
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--module", action="store_true", help="evaluate in process instead of mom feel --batch")
    parser.add_argument("--failures", metavar="CATEGORY", help="list the failing cases of a category (or ALL)")
    parser.add_argument("--corpus", type=Path, action="append", help="a corpus (default: both)")
    args = parser.parse_args(argv)
    for corpus in args.corpus or CORPORA:
        report(corpus, args)
    return 0


def report(corpus: Path, args: argparse.Namespace) -> None:
    cases = load(corpus)
    outcomes = [evaluate_case(case) for case in cases] if args.module else outcomes_by_cli(cases)
    tallies: dict[str, Tally] = defaultdict(Tally)
    failures: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for case, outcome in zip(cases, outcomes, strict=True):
        ok = passes(case, outcome)
        for key in (case["category"], "overall"):
            tallies[key].total += 1
            tallies[key].passed += ok
        if not ok:
            failures.append((case, outcome))
    width = max(len(k) for k in tallies)
    source = "camunda/feel-scala's tests" if "feel_scala" in corpus.name else "the DMN TCK" \
        if "tck" in corpus.name else corpus.name
    print(f"FEEL conformance against {source} ({'module' if args.module else 'mom feel --batch'}, {corpus.name})")
    print(f"{'category':<{width}}  {'passed':>6}  {'cases':>5}  {'rate':>6}")
    for key in [*sorted(k for k in tallies if k != "overall"), "overall"]:
        t = tallies[key]
        print(f"{key:<{width}}  {t.passed:>6}  {t.total:>5}  {100 * t.rate:>5.1f}%")
    if args.failures:
        for case, outcome in failures:
            if args.failures in ("ALL", case["category"]):
                got = outcome.get("value") if outcome["ok"] else "error: " + outcome["error"]
                want = "an error" if case.get("error") else case.get("expected")
                print(f"- [{case['category']}] {case['expr'].strip()!r} input={case.get('input', '-')!r} "
                      f"vars={case.get('vars') or {}}: expected {want!r}, got {got!r}")
    print()


if __name__ == "__main__":
    sys.exit(main())
