"""Shared by the API tests: the test users and an HTTP client that signs in as one of them."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

PASSWORD = "correct-horse-battery"
WORK_CENTER = "Acme.Lyon.Pressing.PressLine"
USERS: dict[str, dict[str, list[str]]] = {
    "root": {"roles": ["admin"], "groups": ["admins"]},
    "erin": {"roles": ["engineer"], "groups": ["engineers"]},
    "sam": {"roles": ["supervisor"], "groups": ["supervisors"]},
    "sue": {"roles": ["supervisor"], "groups": ["supervisors"]},
    "otto": {"roles": ["operator"], "groups": ["operators"], "work_centers": [WORK_CENTER]},
    "olga": {"roles": ["operator"], "groups": ["operators"], "work_centers": ["Acme.Lyon.Welding"]},
    "nora": {"roles": [], "groups": []},
}


@dataclass
class ApiDatabase:
    backend: str
    url: str
    tokens: dict[str, str] = field(default_factory=dict)


class Api:
    """An HTTP client on the app that signs in as the named user (tokens cached per database)."""

    def __init__(self, http: httpx.AsyncClient, database: ApiDatabase):
        self.http = http
        self.database = database

    async def token(self, user: str) -> str:
        if user not in self.database.tokens:
            response = await self.http.post("/auth/token", data={"username": user, "password": PASSWORD})
            assert response.status_code == 200, response.text
            self.database.tokens[user] = response.json()["access_token"]
        return self.database.tokens[user]

    async def as_(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(user)}"}

    async def get(self, url: str, user: str, **kwargs: object) -> httpx.Response:
        return await self.http.get(url, headers=await self.as_(user), **kwargs)  # type: ignore[arg-type]

    async def post(self, url: str, user: str, **kwargs: object) -> httpx.Response:
        return await self.http.post(url, headers=await self.as_(user), **kwargs)  # type: ignore[arg-type]

    async def patch(self, url: str, user: str, **kwargs: object) -> httpx.Response:
        return await self.http.patch(url, headers=await self.as_(user), **kwargs)  # type: ignore[arg-type]



    async def put(self, url: str, user: str, **kwargs: object) -> httpx.Response:
        return await self.http.put(url, headers=await self.as_(user), **kwargs)  # type: ignore[arg-type]
