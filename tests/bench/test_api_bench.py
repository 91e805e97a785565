"""bench/api.py, small: the inbox load (open loop, through bench/raw_http.py's connections) and the
flows (through httpx) run against the real API, worker and Temporal server, and the figures are
printed. Figures are not checked: the bench prints them, the suite only checks that it runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "api.py"


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_a_small_inbox_under_load_prints_p50_and_p99() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--open-tasks", "300", "--instances", "4", "--rate", "10",
                           "--warm-up", "1"],
                          capture_output=True, text=True, timeout=380, env={**os.environ, "COLUMNS": "200"})
    out = done.stdout
    assert done.returncode in (0, 1), out[-3000:] + done.stderr[-3000:]  # 1: a target not met on this machine
    assert "seeded 300 open tasks" in out
    assert re.search(r"^warm-up before the figures \([\d.]+ s, not in them.*inbox list n=\d+ p99", out, re.M), out
    assert "request(s) failed" not in out, out  # every list answered 200 with the whole inbox's total
    for measure in ("inbox list", "complete task", "complete -> next task in inbox"):
        row = re.search(rf"^{re.escape(measure)}\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+target (met|NOT met)$", out, re.M)
        assert row is not None, out
        assert int(row[1]) >= (4 if measure != "inbox list" else 1), row[0]
    assert re.search(r"API CPU [\d.]+ s for \d+ requests", out), out
