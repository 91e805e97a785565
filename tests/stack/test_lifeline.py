"""A process killed with -9 takes the Temporal dev server and the stack's processes it started with
it (PR_SET_PDEATHSIG): nothing is left holding the SQLite file or the port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mom.stack.lifeline import die_with_parent

PARENT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from mom.stack.supervisor import Component
    from mom.stack.temporal_server import TemporalDevServer

    server = TemporalDevServer(db_file=Path(sys.argv[1]) / "temporal.db").start()
    component = Component("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"], "a child",
                          Path(sys.argv[1]) / "sleeper.log")
    component.start()
    print(server.process.pid, component.process.pid, flush=True)
    time.sleep(600)
""")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{pid}").exists() else "X"
    return state not in ("Z", "X")  # a zombie waiting for init to reap it is gone too


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux only")
def test_the_server_and_components_die_with_a_killed_parent(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    assert parent.stdout is not None
    line = parent.stdout.readline()
    assert line, f"the parent printed nothing (exit {parent.poll()})"
    children = [int(pid) for pid in line.split()]
    assert all(alive(pid) for pid in children)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 60
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in children if alive(pid)]
    for pid in left:  # do not leave them to the rest of the suite
        os.kill(pid, signal.SIGKILL)
    assert not left, f"still running after the parent was killed: {left}"


def test_not_armed_off_the_main_thread() -> None:
    import threading

    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(die_with_parent()))
    thread.start()
    thread.join()
    assert seen == [None]
    if sys.platform == "linux":
        assert callable(die_with_parent())
