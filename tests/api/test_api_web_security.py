"""Security headers on every answer, and /docs served from this server only (issue J.12): there
were no CSP, X-Frame-Options or nosniff headers, and /docs loaded Swagger UI from a CDN (plants are
air-gapped)."""

from __future__ import annotations

import re

import httpx
import pytest
from api_client import Api

from api.web import web_dist


def assert_secured(headers: httpx.Headers, what: str) -> None:
    csp = headers.get("content-security-policy") or ""
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, what
    assert "unsafe-eval" not in csp and "script-src 'self' 'unsafe-inline'" not in csp, what
    assert headers.get("x-frame-options") == "DENY", what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("referrer-policy") == "no-referrer", what


async def test_every_answer_carries_the_security_headers(api: Api) -> None:
    assert_secured((await api.http.get("/health")).headers, "/health")
    assert_secured((await api.http.get("/tasks")).headers, "401 /tasks")
    assert_secured((await api.get("/instances/nothing-here", "sam")).headers, "404 instance")
    refused = await api.post("/lint/test-run", "erin", json={"timeout": "soon"})
    assert refused.status_code == 422
    assert_secured(refused.headers, "422")


async def test_docs_load_nothing_from_outside(api: Api) -> None:
    if not (web_dist() / "index.html").is_file():
        pytest.skip("the web UI is not built (make web)")
    page = await api.http.get("/docs")
    assert page.status_code == 200, page.text
    html = page.text
    assert not re.search(r"(https?:)?//", html), html
    assert_secured(page.headers, "/docs")
    assert "<script>" not in html  # no inline script: the CSP allows script files only
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) == 3, assets
    for asset in assets:
        response = await api.http.get(asset)
        assert response.status_code == 200, asset
        assert_secured(response.headers, asset)
        assert response.headers["content-type"].split(";")[0] in ("text/css", "text/javascript",
                                                                  "application/javascript"), asset
        assert "//cdn" not in response.text and "unpkg.com" not in response.text, asset
    assert (await api.http.get("/redoc")).status_code == 404  # FastAPI's, from a CDN: off
    openapi = await api.http.get("/openapi.json")
    assert openapi.status_code == 200 and openapi.json()["info"]["title"] == "Smart MOM"
    assert_secured((await api.http.get("/ui/")).headers, "/ui/")
