"""The Python heap of a long-running process (API, worker): settled once it has started.

CPython's full (generation 2) garbage collections walk every tracked object: after the imports of
FastAPI, SQLAlchemy, pydantic, temporalio and SpiffWorkflow that is hundreds of thousands, and a
full collection stalled the API for up to 300 ms under load (bench/api.py), every request waiting.
:func:`settle` collects once and moves what exists at that moment into the permanent generation
(``gc.freeze``): later collections walk only what the process made since. Call it once per process,
after start-up and before serving (never per request or per test: frozen objects are never freed).
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect, then freeze the surviving objects; the number frozen in all."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
