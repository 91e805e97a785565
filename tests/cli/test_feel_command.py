"""``mom feel``, run as a process engineer runs it: one expression, --json, --batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def mom_feel(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mom.cli", "feel", *args], cwd=ROOT, input=stdin,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)


def test_an_expression_prints_its_result_as_json() -> None:
    result = mom_feel('if x > 5 then "big" else "small"', "--vars", '{"x": 7}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "big"
    result = mom_feel('{total: sum(xs), due: date("2026-01-31") + duration("P1M")}', "--vars", '{"xs": [1, 2.5]}')
    assert json.loads(result.stdout) == {"total": 3.5, "due": "2026-02-28"}


def test_an_error_exits_1_and_names_the_position() -> None:
    result = mom_feel("a + * 2", "--json")
    assert result.returncode == 1
    outcome = json.loads(result.stdout)
    assert outcome["ok"] is False and outcome["position"] == 5
    assert "position 5" in outcome["error"] and "'a + * 2'" in outcome["error"]
    plain = mom_feel("a + * 2")
    assert plain.returncode == 1 and "position 5" in plain.stderr and plain.stdout == ""


def test_unary_tests_against_an_input() -> None:
    assert json.loads(mom_feel("[250..1000]", "--input", "300").stdout) is True
    assert json.loads(mom_feel('"a","b"', "--input", '"c"').stdout) is False


def test_now_takes_the_clock_given() -> None:
    assert json.loads(mom_feel("today()", "--now", "2026-03-01T10:00:00Z").stdout) == "2026-03-01"


def test_batch_answers_one_line_per_case(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"expr": "x * 2", "vars": {"x": 21}}\n'
                     '{"expr": "x >"}\n'
                     "not json\n"
                     '{"expr": "< 10", "input": 3}\n')
    result = mom_feel("--batch", str(cases))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0] == {"ok": True, "value": 42}
    assert lines[1]["ok"] is False and "position 3" in lines[1]["error"]
    assert lines[2]["ok"] is False and "line 3" in lines[2]["error"]
    assert lines[3] == {"ok": True, "value": True}
