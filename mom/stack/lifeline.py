"""Children that die with the process that started them (Linux), even when it is killed with -9.

`mom up`, the demo and the test fixtures start the Temporal dev server and the stack's processes in
sessions of their own (so a Ctrl-C in a terminal reaches only the supervisor, which stops them in
order). If the supervisor itself is killed with SIGKILL, nothing stops them: a Temporal server
left running keeps its SQLite file and port, and the next `mom up` finds "something already
listens". :func:`die_with_parent` arms PR_SET_PDEATHSIG in the child: the kernel sends it SIGTERM
when the thread that started it ends, which for the main thread is when the process ends.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None  # resolved before any fork


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen`, or None where it cannot work: not Linux, or
    not the main thread (the signal comes when the starting *thread* ends, too early elsewhere)."""
    if _prctl is None or threading.current_thread() is not threading.main_thread():
        return None
    parent = os.getpid()
    prctl = _prctl

    def arm() -> None:  # runs in the child between fork and exec: a system call, nothing that locks
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os.kill(os.getpid(), signal.SIGTERM)

    return arm
