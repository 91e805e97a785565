"""Web UI fixtures: the API (with the built UI) on a free loopback port in a thread, a worker on the
test's task queue, users of every role, and Debian's Chromium driven by Playwright.

Playwright's own browser download is never used: the browser is ``/usr/bin/chromium`` (Debian's
``chromium`` package; ``.ci/run`` installs it). ``make test`` builds ``web/dist`` first.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, async_playwright, expect
from temporalio.client import Client

from api.app import create_app
from api.routers import dashboards
from api.web import web_dist
from mom.db import create_database_engine, create_session_factory
from mom.db.migrate import upgrade_database
from mom.settings import Settings, load_settings
from mom.stack.temporal_server import TemporalDevServer, connect_when_ready
from mom.users import add_user
from web.browsing import PASSWORD, Browsing
from worker import build_worker

# Playwright's assertions wait 5 s by default; a page's first load here also waits for the API in a
# thread of the test process, on two cores shared with the Temporal server: give them as long as
# the page's own actions get (page.set_default_timeout below).
EXPECT_TIMEOUT_MS = 15_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)

CHROMIUM = os.environ.get("MOM_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WORK_CENTER = "Acme.Lyon.Pressing.PressLine"
USERS: dict[str, dict[str, list[str]]] = {
    "erin": {"roles": ["engineer"], "groups": ["engineers"]},
    "sam": {"roles": ["supervisor"], "groups": ["supervisors"]},
    "otto": {"roles": ["operator"], "groups": ["operators"], "work_centers": [WORK_CENTER]},
    "ada": {"roles": ["admin"], "groups": ["admins"]},
}


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporalDevServer]:
    """The web tests' own Temporal server: pages list instances from its visibility, and the API tests'
    instances (business keys such as PO-1, the orders of tests/web/plant_data.py) must not show there."""
    base = tmp_path_factory.mktemp("temporal-web")
    server = TemporalDevServer(db_file=base / "temporal.db", log_file=base / "temporal.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def temporal_client(temporal_server: TemporalDevServer) -> AsyncIterator[Client]:
    yield await connect_when_ready(temporal_server.address)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def web_settings(tmp_path: Path, data_dir: Path, task_queue: str, temporal_server: TemporalDevServer) -> Settings:
    if not (web_dist() / "index.html").is_file():
        pytest.fail(f"{web_dist()} has no index.html: build the UI first (`make web`; `make test` does it)")
    url = f"sqlite:///{tmp_path / 'mom.db'}"
    upgrade_database(url, actor="pytest")
    engine = create_database_engine(url)
    with create_session_factory(engine)() as session, session.begin():
        for name, rights in USERS.items():
            add_user(session, username=name, password=PASSWORD, actor="pytest", roles=rights["roles"],
                     groups=rights["groups"], work_centers=rights.get("work_centers", []))
    engine.dispose()
    return load_settings(environment="test", data_dir=data_dir, database_url=url, task_queue=task_queue,
                         temporal_address=temporal_server.address, secret_key="web-test-secret-" + "x" * 32)


@pytest.fixture
def base_url(web_settings: Settings) -> Iterator[str]:
    """The API with the UI, served by uvicorn in a thread (its own event loop and Temporal client)."""
    port = _free_port()
    app = create_app(web_settings)
    if not any(getattr(r, "path", "").startswith(dashboards.router.prefix) for r in app.routes):
        app.include_router(dashboards.router)  # until create_app lists it (then this does nothing)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="web-test-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the API did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
async def worker(temporal_client: Client, web_settings: Settings) -> AsyncIterator[None]:
    async with build_worker(temporal_client, web_settings, queue=web_settings.task_queue):
        yield


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        # Playwright gives the browser a fresh temporary profile (--user-data-dir) and removes it after
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


@pytest.fixture
async def browsing(browser: Browser, base_url: str, artifacts_dir: Path,
                   request: pytest.FixtureRequest) -> AsyncIterator[Browsing]:
    folder = artifacts_dir / "web" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    context: BrowserContext = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(EXPECT_TIMEOUT_MS)
    session = Browsing(page, base_url, folder)
    page.on("request", lambda r: session.requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    refused: list[str] = []  # what the server's Content-Security-Policy made the browser refuse
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    yield session
    await context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"
    assert not refused, f"the Content-Security-Policy refused: {refused}"
