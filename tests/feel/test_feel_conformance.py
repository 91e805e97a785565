"""FEEL conformance against camunda/feel-scala's own test expectations (bench/feel/feel_scala_corpus.jsonl)
and the DMN TCK's FEEL test cases (bench/feel/dmn_tck_corpus.jsonl).

Known gaps are listed in tests/feel/known_failures*.txt (one case id a line); any other failing case is
a regression and fails this test, and so does a pass count below the recorded one. When a change makes
known failures pass, regenerate the lists:
``PYTHONPATH=$PWD .venv/bin/python tests/feel/test_feel_conformance.py`` and raise the recorded counts.
The figures per category: ``PYTHONPATH=$PWD .venv/bin/python bench/feel_conformance.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mom.feel.conformance import case_id, load, run

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
# corpus, its known failures, the pass count recorded
PASSED_TCK = 1731
CORPORA = {
    "feel-scala": (ROOT / "bench" / "feel" / "feel_scala_corpus.jsonl", HERE / "known_failures.txt", 1645),
    "dmn-tck": (ROOT / "bench" / "feel" / "dmn_tck_corpus.jsonl", HERE / "known_failures_dmn_tck.txt", PASSED_TCK),
}


def _failing(corpus: Path) -> tuple[int, int, list[str]]:
    cases = load(corpus)
    failing: list[str] = []
    passed = 0
    for case, _outcome, ok in run(cases):
        if ok:
            passed += 1
        else:
            failing.append(case_id(case))
    return passed, len(cases), failing


def test_the_corpora_are_the_reference_suites() -> None:
    scala = load(CORPORA["feel-scala"][0])
    assert len(scala) > 1500 and len({case["category"] for case in scala}) >= 20
    tck = load(CORPORA["dmn-tck"][0])
    assert len(tck) > 1500 and len({case["category"] for case in tck}) >= 60


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_no_case_regresses_below_the_recorded_pass_count(name: str) -> None:
    corpus, known_file, at_least = CORPORA[name]
    passed, total, failing = _failing(corpus)
    known = set(known_file.read_text().splitlines())
    regressions = [f for f in failing if f not in known]
    assert not regressions, f"{len(regressions)} {name} cases fail that passed before:\n" + "\n".join(regressions[:20])
    assert passed >= at_least, f"{passed}/{total} {name} cases pass, fewer than the recorded {at_least}"


if __name__ == "__main__":
    for name, (corpus, known_file, _at_least) in CORPORA.items():
        passed, total, failing = _failing(corpus)
        known_file.write_text("".join(sorted(set(f"{f}\n" for f in failing))))
        print(f"{name}: {passed}/{total} pass; {len(set(failing))} known failures written to {known_file}",
              file=sys.stderr)
