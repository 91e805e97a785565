"""The web UI: the assets built from ``web/`` (``make install`` runs ``npm ci`` and the build into
``web/dist``) are served under ``/ui/``; ``/`` leads there. Nothing is loaded from the internet."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.docs import mount_docs

WEB_PATH = "/ui"
DEFAULT_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"


def web_dist() -> Path:
    """Where the built assets are: ``MOM_WEB_DIST`` when set, else ``web/dist`` of the checkout."""
    configured = os.environ.get("MOM_WEB_DIST")
    return Path(configured) if configured else DEFAULT_DIST


def mount_web_ui(app: FastAPI, dist: Path | None = None) -> bool:
    """Serve the built UI when it exists (an API without it still works); True when mounted."""
    folder = dist or web_dist()
    if not (folder / "index.html").is_file():
        return False
    app.mount(WEB_PATH, StaticFiles(directory=folder, html=True), name="web-ui")
    mount_docs(app, folder)

    @app.get("/", include_in_schema=False)
    def to_web_ui() -> RedirectResponse:
        return RedirectResponse(f"{WEB_PATH}/")

    return True
