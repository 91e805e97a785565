"""Every route of the app refuses a request without a token (401), found from the route table
itself: a new endpoint that forgets its role dependency fails here. And every route that needs a
role refuses a signed-in user without one (403)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from api_client import Api
from fastapi import FastAPI
from fastapi.routing import APIRoute

PUBLIC = {"/health", "/auth/token", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
NO_ROLE_NEEDED = {"/auth/me", "/auth/password", "/auth/sign-out"}  # any signed-in user, roles or not
PARAMETER = re.compile(r"{([^}:]+)(:[^}]+)?}")


def api_routes(routes: list[object]) -> Iterator[APIRoute]:
    """The routes as the app serves them, including those of included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)
        elif hasattr(route, "routes") and not hasattr(route, "app"):
            yield from api_routes(route.routes)


def requests(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for route in api_routes(list(app.routes)):
        if route.path in PUBLIC or not route.include_in_schema:
            continue
        path = PARAMETER.sub("1", route.path)
        found.extend((method, path) for method in sorted(route.methods - {"HEAD", "OPTIONS"}))
    return found


async def test_every_route_needs_a_token(app: FastAPI, api: Api) -> None:
    checked = requests(app)
    assert len(checked) >= 40 and ("POST", "/orders") in checked and ("GET", "/machine-events") in checked
    wrong = []
    for method, path in checked:
        response = await api.http.request(method, path)
        if response.status_code != 401:
            wrong.append(f"{method} {path} -> {response.status_code}")
    assert not wrong, "routes that answer without a token:\n" + "\n".join(wrong)


async def test_every_route_needs_a_role(app: FastAPI, api: Api) -> None:
    headers = await api.as_("nora")  # signed in, no role
    wrong = []
    for method, path in requests(app):
        if path in NO_ROLE_NEEDED:
            continue
        response = await api.http.request(method, path, headers=headers)
        if response.status_code != 403:
            wrong.append(f"{method} {path} -> {response.status_code}")
    assert not wrong, "routes open to a user without a role:\n" + "\n".join(wrong)


async def test_the_check_sees_a_route_without_auth(app: FastAPI, api: Api) -> None:
    @app.get("/probe-without-auth")
    def probe() -> dict[str, str]:
        return {"open": "yes"}

    assert ("GET", "/probe-without-auth") in requests(app)
    assert (await api.http.get("/probe-without-auth")).status_code == 200  # what the first test would report
