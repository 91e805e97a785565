"""OPC UA faults on loopback, shortened: the link goes silent (TCP held, like a pulled cable), goes
silent for longer than the session timeout, and the machine's server restarts. The session notices,
comes back, the subscription delivers again, and ``machine.wait_job_end`` concludes nothing while
the link is down (the job ends during the outage; the result comes after, with the real counts).

The same scenarios with 5 s / 60 s outages: ``.venv/bin/python bench/opcua_faults.py``.
Durations here: ``CHAOS_OUTAGE_S`` (default 2.5 s).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "opcua_faults.py"
OUTAGE_S = float(os.environ.get("CHAOS_OUTAGE_S", "2.5"))


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("opcua_faults", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["opcua_faults"] = module
    spec.loader.exec_module(module)
    return module


faults = _load_bench()


async def test_proxy_holds_traffic_while_silent_and_delivers_it_after() -> None:
    import asyncio

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(100):
            writer.write(data)
            await writer.drain()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    proxy = faults.FaultProxy(server.sockets[0].getsockname()[1])
    await proxy.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"a")
        assert await asyncio.wait_for(reader.read(1), 2) == b"a"
        proxy.go_silent()
        writer.write(b"b")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(1), 0.3)
        proxy.restore()
        assert await asyncio.wait_for(reader.read(1), 2) == b"b"
        writer.close()
    finally:
        await proxy.stop()
        server.close()


async def test_silent_link_detected_session_kept_nothing_concluded_on_stale_values() -> None:
    figures = await faults.run_scenario("silent", OUTAGE_S, session_timeout_s=60.0)
    assert figures.lost_before_outage == 0, figures
    assert figures.detect_s is not None and figures.detect_s < 2.5, figures
    assert figures.job_ended_during_outage, "the job should end while the link is down"
    assert figures.stale_conclusions == 0, figures.notes
    assert figures.job_ok, figures.job_outcome  # Ended, with the machine's real final counts
    assert figures.resubscribe_s is not None and figures.resubscribe_s < 5.0, figures
    assert not figures.new_session, "a short outage should re-activate the same session"
    assert figures.lost <= figures.written


async def test_outage_longer_than_the_session_timeout_new_session_and_subscription() -> None:
    figures = await faults.run_scenario("silent", OUTAGE_S + 1.0, session_timeout_s=1.5)
    assert figures.detect_s is not None and figures.detect_s < 2.5, figures
    assert figures.new_session, "the server dropped the session: the client must create a new one"
    assert figures.resubscribe_s is not None and figures.resubscribe_s < 5.0, figures
    assert figures.stale_conclusions == 0 and figures.job_ok, (figures.notes, figures.job_outcome)
    assert figures.lost > 0, "values written while the session was gone cannot have arrived"


async def test_server_restart_detected_and_the_lost_job_is_reported_not_guessed() -> None:
    figures = await faults.run_scenario("restart", min(OUTAGE_S, 1.5), session_timeout_s=60.0)
    assert figures.detect_s is not None and figures.detect_s < 1.0, figures
    assert figures.resubscribe_s is not None and figures.resubscribe_s < 5.0, figures
    assert figures.stale_conclusions == 0
    assert figures.job_ok, figures.job_outcome  # UNKNOWN_JOB: the restarted machine has no such job
