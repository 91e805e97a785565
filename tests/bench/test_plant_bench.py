"""bench/plant.py, small: the production orders and the plain-Temporal ceiling both complete and the
side-by-side figures are printed (a count of orders, and a short sustained run with the memory
table). Figures are not checked: the bench prints them, the suite only checks that it runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "plant.py"


def run_bench(*args: str) -> str:
    done = subprocess.run([sys.executable, str(BENCH), "--machines", "2", "--in-flight", "2", "--warmup", "1",
                           "--timeout", "300", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return " ".join(done.stdout.split())  # rich wraps long lines: search the text as one line


@pytest.mark.slow
@pytest.mark.timeout(650)
def test_four_orders_side_by_side_with_the_plain_temporal_ceiling() -> None:
    out = run_bench("--orders", "4")
    shape = re.search(r"(\d+) activities \((\d+) service on the cloud queue, (\d+) on the edge queue", out)
    assert shape is not None, out
    assert int(shape[1]) >= 20 and int(shape[3]) == 6  # 3 machine steps per operation, 2 operations
    assert "4 user tasks completed by update" in out
    assert re.search(r"plain Temporal ceiling: [\d.]+ orders/s; Smart MOM: [\d.]+ orders/s; ratio", out), out
    assert re.search(r"target >= 20 orders/s: (ABOVE|within) the plain-Temporal ceiling", out), out
    assert re.search(r"Smart MOM │ 4 │", out), out
    assert "20 human tasks done" in out  # 1 warm-up + 4 measured orders, 4 user tasks each


@pytest.mark.slow
@pytest.mark.timeout(650)
def test_a_short_sustained_run_prints_rss_at_start_warm_up_and_end() -> None:
    out = run_bench("--duration", "20", "--warmup-seconds", "5", "--plain-seconds", "10", "--sample", "1")
    assert "20 s sustained" in out
    assert re.search(r"memory \(RSS, MB\)", out), out
    assert re.search(r"RSS every 5 min \(min: this process / Temporal server, MB\): 0: \d+ / \d+", out), out
    assert re.search(r"this process \(workers, simulator, people\) │ \d+ │ \d+ │ \d+ │ [+-][\d.]+", out), out
    assert re.search(r"Temporal dev server │ \d+ │ \d+ │ \d+ │ [+-][\d.]+", out), out
