"""Schemathesis: generated requests for every operation of the OpenAPI spec, sent to the API
served by uvicorn on loopback (real database, real Temporal), signed in as an admin. No request
may get a 5xx answer. Bounded: a few examples per operation and a time budget for the whole run."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
import uvicorn
from api_client import PASSWORD
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from api.app import create_app
from mom.settings import Settings
from mom.stack.temporal_server import TemporalDevServer

EXAMPLES_PER_OPERATION = 8
TIME_BUDGET_S = 300.0  # a loaded 2-core CI machine used up 60 s before the last operations


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served_api(settings: Settings, temporal_server: TemporalDevServer) -> Iterator[str]:
    cfg = settings.model_copy(update={"temporal_address": temporal_server.address})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(cfg), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_no_operation_answers_5xx(served_api: str) -> None:
    token = httpx.post(f"{served_api}/auth/token", data={"username": "root", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    schema = schemathesis.openapi.from_url(f"{served_api}/openapi.json")
    failures: list[str] = []
    calls: list[int] = []
    started = time.monotonic()
    # signing out revokes the token every later case is sent with (and the other tests' cached one)
    operations = [op for op in (result.ok() for result in schema.get_all_operations())
                  if op.label != "POST /auth/sign-out"]
    assert len(operations) >= 15, [op.label for op in operations]
    for operation in operations:
        if time.monotonic() - started > TIME_BUDGET_S:
            pytest.fail(f"time budget of {TIME_BUDGET_S} s used up before {operation.label}")

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                             suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=served_api, headers=headers, timeout=20)
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:300]}")

        check()
    assert not failures, "\n".join(failures[:20])
    assert len(calls) > 2 * len(operations), "schemathesis sent too few requests to mean anything"
