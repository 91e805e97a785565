"""bench/plant_start.py, small: both ways of building the standard address space start two machines
that answer a read, and the figures are printed side by side (not checked: the bench prints them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "plant_start.py"


def test_two_machines_start_both_ways_and_the_table_is_printed() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--machines", "2", "--json"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["machines"] == 2
    for mode in ("own", "shared"):
        assert 0 < figures[mode]["serving_s"] <= figures[mode]["answered_s"], figures
    table = subprocess.run([sys.executable, str(BENCH), "--machines", "1"], capture_output=True, text=True,
                           timeout=300)
    assert table.returncode == 0, table.stderr[-3000:]
    assert "shared template" in table.stdout and "faster to serve 1 machines" in table.stdout, table.stdout
