"""FEEL conformance against camunda/feel-scala's own test expectations (bench/feel/feel_scala_corpus.jsonl).

Known gaps are listed in tests/feel/known_failures.txt (one case id a line); any other failing case is
a regression and fails this test, and so does a pass count below the recorded one. When a change makes
known failures pass, regenerate the list:
``PYTHONPATH=$PWD .venv/bin/python tests/feel/test_feel_conformance.py`` and raise PASSED_AT_LEAST.
The figures per category: ``PYTHONPATH=$PWD .venv/bin/python bench/feel_conformance.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mom.feel.conformance import case_id, load, run

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "bench" / "feel" / "feel_scala_corpus.jsonl"
KNOWN = Path(__file__).with_name("known_failures.txt")
PASSED_AT_LEAST = 1645


def _failing() -> tuple[int, int, list[str]]:
    cases = load(CORPUS)
    failing: list[str] = []
    passed = 0
    for case, _outcome, ok in run(cases):
        if ok:
            passed += 1
        else:
            failing.append(case_id(case))
    return passed, len(cases), failing


def test_the_corpus_is_feel_scalas_tests() -> None:
    cases = load(CORPUS)
    assert len(cases) > 1000
    assert len({case["category"] for case in cases}) >= 15


def test_no_case_regresses_below_the_recorded_pass_count() -> None:
    passed, total, failing = _failing()
    known = set(KNOWN.read_text().splitlines())
    regressions = [f for f in failing if f not in known]
    assert not regressions, f"{len(regressions)} FEEL cases fail that passed before:\n" + "\n".join(regressions[:20])
    assert passed >= PASSED_AT_LEAST, f"{passed}/{total} FEEL cases pass, fewer than the recorded {PASSED_AT_LEAST}"


if __name__ == "__main__":
    passed, total, failing = _failing()
    KNOWN.write_text("".join(sorted(set(f"{f}\n" for f in failing))))
    print(f"{passed}/{total} pass; {len(set(failing))} known failures written to {KNOWN}", file=sys.stderr)
