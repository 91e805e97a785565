"""The embedded Temporal dev server keeps a bounded number of workflows in memory (its own default,
8,096 for an hour, grew it by ~500 MB under a steady load), both as ``mom up`` and as the tests,
demo and benches start it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from mom.cli.stack import components
from mom.settings import load_settings
from mom.stack.temporal_server import HISTORY_CACHE_ENTRIES, TemporalDevServer

CACHE_SIZE = re.compile(r'^cache_size\{cache_type="mutablestate",service_name="history"\} (\d+)$', re.M)


def mutable_state_cache_size(metrics_port: int, timeout_s: float = 30.0) -> int:
    """What the server reports as its mutable-state cache size (the metric appears a few seconds after start)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            found = CACHE_SIZE.search(httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text)
        except httpx.HTTPError:
            found = None
        if found and int(found[1]):  # 0 until the cache is set up
            return int(found[1])
        assert time.monotonic() < deadline, "the dev server reported no mutable-state cache size"
        time.sleep(0.3)


@pytest.mark.timeout(90)
def test_the_dev_server_keeps_only_as_many_workflows_in_memory_as_configured(tmp_path: Path) -> None:
    server = TemporalDevServer(db_file=tmp_path / "temporal.db", history_cache_entries=300).start()
    try:
        assert mutable_state_cache_size(server.metrics_port) == 300
    finally:
        server.stop()


def test_mom_up_starts_the_dev_server_with_the_configured_bound(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOM_DATA_DIR", str(tmp_path))
    temporal = next(c for c in components(load_settings(), machines=0, seed=1) if c.name == "temporal")
    assert f"history.hostLevelCacheMaxSize={HISTORY_CACHE_ENTRIES}" in temporal.command
    monkeypatch.setenv("MOM_TEMPORAL_HISTORY_CACHE_ENTRIES", "777")
    temporal = next(c for c in components(load_settings(), machines=0, seed=1) if c.name == "temporal")
    assert "history.hostLevelCacheMaxSize=777" in temporal.command


def test_a_port_taken_between_choosing_and_binding_is_chosen_again(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A free port can be taken before the server binds it (an outgoing connection's ephemeral port took
    the web tests' server port once: 'address already in use', and every web test failed at setup)."""
    import socket

    from mom.stack import temporal_server as module
    from mom.stack.ports import free_port

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))  # bound, not listening: as a connection's local port, nothing answers there
    first = [taken.getsockname()[1]]
    monkeypatch.setattr(module, "free_port", lambda: first.pop() if first else free_port())
    server = TemporalDevServer(db_file=None, log_file=tmp_path / "temporal.log")
    try:
        server.start(timeout=60)
        assert server.port != taken.getsockname()[1]
        assert "address already in use" in (tmp_path / "temporal.log").read_text()
    finally:
        server.stop()
        taken.close()
