"""Every endpoint refuses a request without a token (401) and a token of a role that may not use it
(403), generated from the app's route table: the roles each route needs are read from its
``require_roles`` dependency, so a new endpoint is checked the day it is added, and one with no
role check at all fails here unless it is listed below on purpose. Expired, forged and unsigned
tokens get a 401 that names the reason."""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from temporalio.client import Client

from api.app import create_app
from mom.db import create_database_engine, create_session_factory
from mom.db.migrate import upgrade_database
from mom.settings import Settings, load_settings
from mom.users import Role, add_user

PASSWORD = "correct-horse-battery"
SECRET = "chaos-secret-" + "k" * 32
USERS = {"erin": [Role.ENGINEER], "sam": [Role.SUPERVISOR], "otto": [Role.OPERATOR], "root": [Role.ADMIN],
         "nora": []}
# "/" only redirects to the static web UI under /ui (a mount, not an API route).
PUBLIC = {"/", "/health", "/auth/token", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
# Routes any signed-in user may use, whatever the role: the only ones allowed without require_roles.
SIGNED_IN_ONLY = {"/auth/me", "/auth/password", "/auth/sign-out"}
PARAMETER = re.compile(r"{([^}:]+)(:[^}]+)?}")


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI's included router (newer versions)
            yield from api_routes(route.original_router.routes)
        elif hasattr(route, "routes") and not hasattr(route, "app"):
            yield from api_routes(route.routes)


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def required_roles(route: APIRoute) -> frozenset[str] | None:
    """The roles of the route's ``require_roles(...)`` dependency (None when it has none)."""
    for call in _calls(route.dependant):
        if getattr(call, "__qualname__", "") == "require_roles.<locals>.check":
            wanted = inspect.getclosurevars(call).nonlocals["wanted"]
            return frozenset(str(r.value) for r in wanted)
    return None


def uses_current_user(route: APIRoute) -> bool:
    return any(getattr(call, "__name__", "") == "current_user" for call in _calls(route.dependant))


def protected_requests(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    found: list[tuple[str, str, APIRoute]] = []
    for route in api_routes(list(app.routes)):
        if route.path in PUBLIC:
            continue
        path = PARAMETER.sub("1", route.path)
        found.extend((method, path, route) for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}))
    return found


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('chaos-api') / 'mom.db'}"
    upgrade_database(url, actor="pytest")
    engine = create_database_engine(url)
    with create_session_factory(engine)() as session, session.begin():
        for name, roles in USERS.items():
            add_user(session, username=name, password=PASSWORD, actor="pytest", roles=[r.value for r in roles],
                     groups=[], work_centers=[])
    engine.dispose()
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(environment="test", data_dir=tmp_path, database_url=database_url, secret_key=SECRET)


@pytest.fixture
def app(settings: Settings, temporal_client: Client) -> FastAPI:
    return create_app(settings, temporal_client=temporal_client)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mom.test") as client:
        yield client


async def bearer(http: httpx.AsyncClient, user: str) -> dict[str, str]:
    response = await http.post("/auth/token", data={"username": user, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_every_route_has_a_role_check_or_is_listed(app: FastAPI) -> None:
    checked = protected_requests(app)
    assert len(checked) >= 25, "the route table looks empty: is the app complete?"
    unchecked = sorted({route.path for _, _, route in checked
                        if required_roles(route) is None and route.path not in SIGNED_IN_ONLY})
    assert not unchecked, f"routes without require_roles(...) and not in SIGNED_IN_ONLY: {unchecked}"
    anonymous = sorted({route.path for _, _, route in checked if not uses_current_user(route)})
    assert not anonymous, f"routes that never ask who is calling: {anonymous}"


async def test_every_route_refuses_a_request_without_a_token(app: FastAPI, http: httpx.AsyncClient) -> None:
    wrong = []
    for method, path, _ in protected_requests(app):
        response = await http.request(method, path)
        if response.status_code != 401 or "not signed in" not in response.text:
            wrong.append(f"{method} {path} -> {response.status_code} {response.text[:80]}")
    assert not wrong, "answered without a token:\n" + "\n".join(wrong)


async def test_every_route_refuses_each_role_that_may_not_use_it(app: FastAPI, http: httpx.AsyncClient) -> None:
    tokens = {user: await bearer(http, user) for user in USERS}
    wrong, checked = [], 0
    for method, path, route in protected_requests(app):
        roles = required_roles(route)
        if roles is None:
            continue
        for user, user_roles in USERS.items():
            if Role.ADMIN in user_roles or any(r.value in roles for r in user_roles):
                continue
            response = await http.request(method, path, headers=tokens[user])
            checked += 1
            needed = [r for r in roles if r in response.text]
            if response.status_code != 403 or not needed or user not in response.text:
                wrong.append(f"{method} {path} as {user} -> {response.status_code} {response.text[:100]}")
    assert checked > 50
    assert not wrong, "routes that let a wrong role through or do not say which role is needed:\n" + "\n".join(wrong)


async def test_the_role_check_is_really_derived_from_the_routes(app: FastAPI, http: httpx.AsyncClient) -> None:
    """Adding an endpoint without a role check makes the route-table test fail."""
    from api.deps import require_roles

    @app.get("/probe-open")
    def probe_open() -> dict[str, str]:
        return {"open": "yes"}

    from fastapi import Depends

    @app.get("/probe-engineers", dependencies=[Depends(require_roles(Role.ENGINEER))])
    def probe_engineers() -> dict[str, str]:
        return {"open": "engineers"}

    with pytest.raises(AssertionError, match="/probe-open"):
        test_every_route_has_a_role_check_or_is_listed(app)
    engineers = next(r for r in api_routes(list(app.routes)) if r.path == "/probe-engineers")
    assert required_roles(engineers) == {"engineer"}
    assert (await http.get("/probe-engineers", headers=await bearer(http, "otto"))).status_code == 403
    assert (await http.get("/probe-engineers", headers=await bearer(http, "erin"))).status_code == 200


def _token(claims: dict[str, Any], key: str = SECRET, algorithm: str = "HS256") -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm=algorithm)}"}


async def test_expired_forged_and_unsigned_tokens_are_refused_naming_the_reason(http: httpx.AsyncClient) -> None:
    now = datetime.now(UTC)
    cases = {
        "expired": (_token({"sub": "root", "iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)}),
                    "access token expired"),
        "forged (other key)": (_token({"sub": "root", "exp": now + timedelta(minutes=5)}, key="x" * 40),
                               "Signature verification failed"),
        "unsigned (alg none)": (_token({"sub": "root", "exp": now + timedelta(minutes=5)}, key="", algorithm="none"),
                                "access token invalid"),
        "no expiry": (_token({"sub": "root"}), 'Token is missing the "exp" claim'),
        "not a JWT": ({"Authorization": "Bearer not-a-token"}, "access token invalid"),
        "unknown user": (_token({"sub": "mallory", "exp": now + timedelta(minutes=5)}),
                         "user 'mallory' no longer exists"),
    }
    for name, (headers, reason) in cases.items():
        response = await http.get("/process-definitions", headers=headers)
        assert response.status_code == 401, (name, response.status_code, response.text)
        assert reason in response.json()["detail"], (name, response.text)
        assert response.headers.get("www-authenticate") == "Bearer", name
    assert (await http.get("/process-definitions", headers=await bearer(http, "root"))).status_code == 200
