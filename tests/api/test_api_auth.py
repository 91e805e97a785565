"""Sign-in, tokens (expired, forged, missing), roles, user administration, first admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from api_client import PASSWORD, Api

from mom.settings import PUBLIC_SECRET, Settings, load_settings
from mom.users import check_password, ensure_first_admin


async def test_sign_in_and_me(api: Api) -> None:
    response = await api.http.post("/auth/token", data={"username": "sam", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 30 * 60
    me = await api.http.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "sam" and me.json()["roles"] == ["supervisor"]


async def test_wrong_password_and_unknown_user_are_401(api: Api) -> None:
    for user, password in (("sam", "wrong-password!"), ("ghost", PASSWORD)):
        response = await api.http.post("/auth/token", data={"username": user, "password": password})
        assert response.status_code == 401
        assert "wrong user name or password" in response.json()["detail"]


async def test_missing_forged_and_expired_tokens_are_401_naming_why(api: Api, settings: Settings) -> None:
    response = await api.http.get("/auth/me")
    assert response.status_code == 401 and "not signed in" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"
    forged = jwt.encode({"sub": "root", "exp": datetime.now(UTC) + timedelta(minutes=5)},
                        "another-secret-of-at-least-32-bytes!", algorithm="HS256")
    response = await api.http.get("/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401 and "invalid" in response.json()["detail"]
    expired = jwt.encode({"sub": "sam", "exp": datetime.now(UTC) - timedelta(seconds=5)}, settings.secret_key,
                         algorithm="HS256")
    response = await api.http.get("/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]


async def test_a_token_used_before_still_expires_at_its_time(api: Api, settings: Settings) -> None:
    """Tokens verified once are remembered (signature and claims); the expiry is still checked on
    every request."""
    import asyncio

    soon = jwt.encode({"sub": "sam", "exp": datetime.now(UTC) + timedelta(seconds=2)}, settings.secret_key,
                      algorithm="HS256")
    headers = {"Authorization": f"Bearer {soon}"}
    for _ in range(2):  # the second time from memory
        assert (await api.http.get("/auth/me", headers=headers)).json()["username"] == "sam"
    await asyncio.sleep(2.1)
    response = await api.http.get("/auth/me", headers=headers)
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    tampered = soon[:-2] + ("AA" if not soon.endswith("AA") else "BB")  # not the remembered token: checked anew
    response = await api.http.get("/auth/me", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401 and "invalid" in response.json()["detail"]


async def test_role_checks_name_the_endpoint_and_role(api: Api) -> None:
    response = await api.get("/users", "sam")
    assert response.status_code == 403
    assert "GET /users needs role admin" in response.json()["detail"]
    assert (await api.get("/process-definitions", "nora")).status_code == 403
    assert (await api.get("/users", "root")).status_code == 200


async def test_admin_creates_user_who_signs_in_then_conflict_and_422(api: Api) -> None:
    name = f"new{datetime.now(UTC).strftime('%H%M%S%f')}"
    body = {"username": name, "password": "a-long-password", "roles": ["operator"], "groups": ["operators"]}
    response = await api.post("/users", "root", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["roles"] == ["operator"]
    assert (await api.post("/users", "root", json=body)).status_code == 409
    short = await api.post("/users", "root", json={**body, "username": name + "x", "password": "short"})
    assert short.status_code == 422 and "password" in str(short.json()["detail"])
    bad_role = await api.post("/users", "root", json={**body, "username": name + "y", "roles": ["king"]})
    assert bad_role.status_code == 422
    assert (await api.get("/users/nobody-here", "root")).status_code == 404
    signed = await api.http.post("/auth/token", data={"username": name, "password": "a-long-password"})
    assert signed.status_code == 200
    listed = await api.get("/users", "root", params={"role": "operator", "limit": 500})
    assert name in [u["username"] for u in listed.json()["items"]]
    # deactivated: the token stops working at once
    token = signed.json()["access_token"]
    assert (await api.patch(f"/users/{name}", "root", json={"active": False})).status_code == 200
    gone = await api.http.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401


async def test_reset_password_forces_a_change_before_anything_else(api: Api) -> None:
    name = f"reset{datetime.now(UTC).strftime('%H%M%S%f')}"
    await api.post("/users", "root", json={"username": name, "password": "first-password", "roles": ["engineer"]})
    assert (await api.post(f"/users/{name}/password", "root", json={"new_password": "temporary-pass"})).status_code \
        == 200
    token = (await api.http.post("/auth/token", data={"username": name, "password": "temporary-pass"})).json()[
        "access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    blocked = await api.http.get("/process-definitions", headers=headers)
    assert blocked.status_code == 403 and "one-time password" in blocked.json()["detail"]
    wrong = await api.http.post("/auth/password", headers=headers,
                                json={"current_password": "nope-nope-nope", "new_password": "brand-new-password"})
    assert wrong.status_code == 403
    changed = await api.http.post("/auth/password", headers=headers,
                                  json={"current_password": "temporary-pass", "new_password": "brand-new-password"})
    assert changed.status_code == 200 and changed.json()["must_change_password"] is False
    assert (await api.http.get("/process-definitions", headers=headers)).status_code == 401  # revoked: sign in again
    token = (await api.http.post("/auth/token", data={"username": name, "password": "brand-new-password"})).json()[
        "access_token"]
    assert (await api.http.get("/process-definitions", headers={"Authorization": f"Bearer {token}"})).status_code \
        == 200


async def test_admin_hands_over_a_one_time_password_the_user_must_change(api: Api) -> None:
    name = f"handed{datetime.now(UTC).strftime('%H%M%S%f')}"
    created = await api.post("/users", "root", json={"username": name, "password": "handed-over-1",
                                                     "roles": ["supervisor"], "must_change_password": True})
    assert created.status_code == 201 and created.json()["must_change_password"] is True
    token = (await api.http.post("/auth/token", data={"username": name, "password": "handed-over-1"})).json()[
        "access_token"]
    blocked = await api.http.get("/tasks", headers={"Authorization": f"Bearer {token}"})
    assert blocked.status_code == 403 and "one-time password" in blocked.json()["detail"]


def test_first_admin_is_created_once_with_a_one_time_password(tmp_path: Path) -> None:
    settings = load_settings(environment="test", data_dir=tmp_path, secret_key="s" * 40)
    password = ensure_first_admin(settings)
    assert password is not None and len(password) >= 16
    check_password(password, username="admin")  # the one-time password passes the policy
    assert ensure_first_admin(settings) is None


def test_no_public_secret_and_production_needs_its_own(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(ValueError, match="MOM_SECRET_KEY is not set"):
        load_settings(environment="production", data_dir=tmp_path)
    for environment in ("development", "test", "production"):
        with pytest.raises(ValueError, match="public default"):
            load_settings(environment=environment, data_dir=tmp_path, secret_key=PUBLIC_SECRET)
    assert not (tmp_path / "secret.key").exists()


def test_without_mom_secret_key_the_data_dir_secret_signs(tmp_path: Path) -> None:
    """No MOM_SECRET_KEY: a random secret made once in the data dir (mode 0600), shared by every
    process reading that data dir; a copy readable by others is refused, naming the file."""
    import os
    import stat

    import pytest

    from api.app import create_app

    create_app(load_settings(environment="test", data_dir=tmp_path))
    secret_file = tmp_path / "secret.key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    first, second = (load_settings(data_dir=tmp_path) for _ in range(2))
    assert first.signing_secret == second.signing_secret == secret_file.read_text().strip()
    assert len(first.signing_secret) >= 48 and first.signing_secret != PUBLIC_SECRET
    assert first.derived_key("completion proof") == second.derived_key("completion proof") != \
        first.derived_key("another purpose")
    assert load_settings(data_dir=tmp_path / "other").signing_secret != first.signing_secret
    os.chmod(secret_file, 0o644)
    with pytest.raises(ValueError, match=f"{secret_file} is readable by others"):
        create_app(load_settings(environment="test", data_dir=tmp_path))
