"""bench/b2mml_import.py, small: it parses and stores a schedule and prints the figures (not checked:
the bench prints them, the suite only checks that it runs and stores every request)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "b2mml_import.py"


def test_the_import_bench_prints_parse_and_store_times() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--requests", "20", "1200"], capture_output=True, text=True,
                          timeout=300, env=os.environ)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for count in ("20", "1200"):
        assert re.search(rf"^\s*{count} requests: parse +[\d.]+ s, store +[\d.]+ s \([\d,]+ orders/s\)$",
                         done.stdout, re.M), done.stdout
