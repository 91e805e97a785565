"""Issue J.6, over HTTP: sign-in back-off and lockout (per user and per client address, counted in
the database), admin unlock, the password policy wherever a password is set, and tokens revoked by
a password change, a reset, a deactivation and a sign-out, each refused naming why."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from api_client import Api, ApiDatabase
from fastapi import FastAPI

from api.app import create_app
from mom.settings import Settings

GOOD = "wide-river-stone-lamp"
NEW = "quiet-harbour-maple-7"


@pytest.fixture
def strict_app(settings: Settings) -> FastAPI:
    """Thresholds small enough for a test: back-off after 3 failures in a row or 6 from one address
    (30 s, so a slow machine cannot outwait it between two requests), lockout at 6."""
    return create_app(settings.model_copy(update={
        "sign_in_backoff_after": 3, "sign_in_lockout_after": 6, "sign_in_backoff_base_s": 30.0,
        "sign_in_address_backoff_after": 6}), migrate=False)


@pytest.fixture
def locking_app(settings: Settings) -> FastAPI:
    """Lockout at the 4th failure in a row, before any back-off (it would come after the 4th, 1 s)."""
    return create_app(settings.model_copy(update={
        "sign_in_backoff_after": 4, "sign_in_lockout_after": 4, "sign_in_backoff_base_s": 1.0}), migrate=False)


def _client(app: FastAPI, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://mom.test")


@pytest.fixture
async def admin(strict_app: FastAPI, api_database: ApiDatabase) -> AsyncIterator[Api]:
    async with _client(strict_app, "10.0.0.1") as http:
        yield Api(http, api_database)


async def _new_user(admin: Api, prefix: str, password: str = GOOD) -> str:
    name = f"{prefix}-{secrets.token_hex(3)}"
    created = await admin.post("/users", "root", json={"username": name, "password": password, "roles": ["operator"]})
    assert created.status_code == 201, created.text
    return name


async def _sign_in(http: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await http.post("/auth/token", data={"username": name, "password": password})


def _bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_wrong_passwords_back_off_naming_the_wait(strict_app: FastAPI, admin: Api) -> None:
    name = await _new_user(admin, "guessed")
    async with _client(strict_app, "10.0.0.2") as attacker, _client(strict_app, "10.0.0.3") as owner:
        # before: 40 wrong passwords in 11 s, then the right one: 200
        answers = [(await _sign_in(attacker, name, f"guess-number-{i}")).status_code for i in range(10)]
        assert answers[:3] == [401, 401, 401] and set(answers[3:]) == {429}, answers
        backoff = await _sign_in(owner, name, GOOD)  # the right password, from elsewhere: still waits
        assert backoff.status_code == 429, backoff.text
        wait = int(backoff.headers["retry-after"])
        assert 1 <= wait <= 30
        assert f"user '{name}' (3 in a row): wait {wait} s" in backoff.json()["detail"]


async def test_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(
        locking_app: FastAPI, api_database: ApiDatabase) -> None:
    async with _client(locking_app, "10.0.0.1") as http, _client(locking_app, "10.0.0.2") as attacker, \
            _client(locking_app, "10.0.0.3") as owner:
        admin = Api(http, api_database)
        name = await _new_user(admin, "locked")
        answers = [(await _sign_in(attacker, name, f"guess-number-{i}")).status_code for i in range(4)]
        assert answers == [401] * 4
        locked = await _sign_in(owner, name, GOOD)  # the right password
        assert locked.status_code == 423, locked.text
        assert "locked after 4 failed sign-ins" in locked.json()["detail"]
        assert f"mom users unlock {name}" in locked.json()["detail"]
        await asyncio.sleep(1.5)  # longer than the back-off: no wait ends a lockout
        assert (await _sign_in(owner, name, GOOD)).status_code == 423
        shown = await admin.get(f"/users/{name}", "root")
        assert shown.json()["locked_at"] is not None
        assert (await admin.post(f"/users/{name}/unlock", "sam")).status_code == 403  # admins only
        unlocked = await admin.post(f"/users/{name}/unlock", "root")
        assert unlocked.status_code == 200 and unlocked.json()["locked_at"] is None
        assert (await _sign_in(owner, name, GOOD)).status_code == 200
        trail = await admin.get("/audit", "root", params={"entity_type": "user", "entity_id": name, "limit": 50})
        assert trail.status_code == 200, trail.text
        actions = [entry["action"] for entry in trail.json()["items"]]
        assert "user.locked" in actions and "user.unlocked" in actions


async def test_an_address_backs_off_whatever_user_names_it_tries(strict_app: FastAPI, admin: Api) -> None:
    name = await _new_user(admin, "sprayed")
    async with _client(strict_app, "10.0.0.4") as sprayer, _client(strict_app, "10.0.0.5") as owner:
        answers = [(await _sign_in(sprayer, f"nobody-{i}-{secrets.token_hex(2)}", GOOD)).status_code
                   for i in range(8)]
        assert answers[:6] == [401] * 6 and answers[6:] == [429, 429], answers
        refused = await _sign_in(sprayer, name, GOOD)  # even a right password waits
        assert refused.status_code == 429 and "from 10.0.0.4" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        assert (await _sign_in(owner, name, GOOD)).status_code == 200  # another address is not concerned


async def test_weak_passwords_are_refused_everywhere_naming_the_rule(strict_app: FastAPI, admin: Api) -> None:
    cases = {"aaaaaaaaaa": "at least 12 characters", "aaaaaaaaaaaa": "no repetitions or runs",
             "123456789012": "no repetitions or runs", "Monkey123456!": "most common passwords",
             "1qaz2wsx3edc": "most common passwords"}
    for password, rule in cases.items():
        response = await admin.post("/users", "root", json={"username": f"weak-{secrets.token_hex(3)}",
                                                            "password": password, "roles": ["operator"]})
        assert response.status_code == 422 and rule in response.json()["detail"], (password, response.text)
    named = await admin.post("/users", "root", json={"username": "carmen-lopez", "password": "Carmen-Lopez-2026",
                                                     "roles": ["operator"]})
    assert named.status_code == 422 and "user name" in named.json()["detail"]
    name = await _new_user(admin, "weakling")
    reset = await admin.post(f"/users/{name}/password", "root", json={"new_password": "password1234"})
    assert reset.status_code == 422 and "most common passwords" in reset.json()["detail"], reset.text
    async with _client(strict_app, "10.0.0.6") as own:
        headers = _bearer(await _sign_in(own, name, GOOD))
        changed = await own.post("/auth/password", headers=headers,
                                 json={"current_password": GOOD, "new_password": "aaaaaaaaaa"})
        assert changed.status_code == 422 and "at least 12 characters" in changed.json()["detail"]
        assert (await own.get("/auth/me", headers=headers)).status_code == 200  # nothing changed


async def test_tokens_issued_before_a_password_change_reset_deactivation_or_sign_out_are_refused(
        strict_app: FastAPI, admin: Api) -> None:
    name = await _new_user(admin, "revoked")
    async with _client(strict_app, "10.0.0.7") as own, _client(strict_app, "10.0.0.8") as other_device:
        # a password change ends every session, the one that changed it too
        first, elsewhere = _bearer(await _sign_in(own, name, GOOD)), _bearer(await _sign_in(other_device, name, GOOD))
        assert (await own.get("/auth/me", headers=elsewhere)).status_code == 200
        changed = await own.post("/auth/password", headers=first, json={"current_password": GOOD, "new_password": NEW})
        assert changed.status_code == 200, changed.text
        for stale in (first, elsewhere):
            refused = await own.get("/auth/me", headers=stale)
            assert refused.status_code == 401 and "revoked (password changed" in refused.json()["detail"], refused.text
        # an administrator's reset
        token = _bearer(await _sign_in(own, name, NEW))
        assert (await own.get("/auth/me", headers=token)).status_code == 200
        assert (await admin.post(f"/users/{name}/password", "root",
                                 json={"new_password": "handed-over-pass-9"})).status_code == 200
        refused = await own.get("/auth/me", headers=token)
        assert refused.status_code == 401 and "revoked (password reset by root" in refused.json()["detail"]
        fresh = _bearer(await _sign_in(own, name, "handed-over-pass-9"))
        assert (await own.post("/auth/password", headers=fresh, json={
            "current_password": "handed-over-pass-9", "new_password": GOOD})).status_code == 200
        # deactivation, and the token stays dead after reactivation
        token = _bearer(await _sign_in(own, name, GOOD))
        assert (await admin.patch(f"/users/{name}", "root", json={"active": False})).status_code == 200
        refused = await own.get("/auth/me", headers=token)
        assert refused.status_code == 401 and f"user '{name}' is deactivated" in refused.json()["detail"]
        assert (await admin.patch(f"/users/{name}", "root", json={"active": True})).status_code == 200
        refused = await own.get("/auth/me", headers=token)
        assert refused.status_code == 401 and "revoked (deactivated by root" in refused.json()["detail"]
        # sign-out
        token, elsewhere = _bearer(await _sign_in(own, name, GOOD)), _bearer(await _sign_in(other_device, name, GOOD))
        assert (await own.post("/auth/sign-out", headers=token)).status_code == 204
        for stale in (token, elsewhere):
            refused = await own.get("/tasks", headers=stale)
            assert refused.status_code == 401 and "revoked (signed out" in refused.json()["detail"], refused.text
        assert (await own.get("/auth/me", headers=_bearer(await _sign_in(own, name, GOOD)))).status_code == 200


async def test_revocation_holds_in_every_api_process(settings: Settings, admin: Api) -> None:
    """Two API processes on one database: a sign-out at one is refused at the other at once (the
    version is read with the user on every request; the tokens each process remembers only skip the
    signature check)."""
    name = await _new_user(admin, "twoproc")
    async with _client(create_app(settings, migrate=False), "10.0.0.9") as one, \
            _client(create_app(settings, migrate=False), "10.0.0.9") as two:
        token = _bearer(await _sign_in(one, name, GOOD))
        for http in (one, two, one, two):
            assert (await http.get("/auth/me", headers=token)).status_code == 200
        assert (await one.post("/auth/sign-out", headers=token)).status_code == 204
        refused = await two.get("/auth/me", headers=token)
        assert refused.status_code == 401 and "signed out" in refused.json()["detail"]
