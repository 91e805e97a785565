"""People of the plant at the REST API, as the station and inbox pages use it.

Each person signs in with the OAuth2 password flow (``POST /auth/token``) as a real user with their
roles, groups and work centers, lists their inbox (``GET /tasks``), claims a step
(``POST /tasks/{id}/claim``) and completes it with form data (``POST /tasks/{id}/complete``).
When the API does not answer the way a running API would -- connection refused or reset while it
restarts, no answer before the timeout, a 5xx -- the person waits a moment and sends the same
request again, with the same task id: completion is idempotent by task id, so a completion whose
answer was lost (the API killed mid-request) is sent again and must complete once. A 401 (token
expired, or signed by a restarted API with another key) means signing in again.

:class:`ApiLedger` counts what the people did: steps completed through the API (distinct task ids,
per person and element), attempts that found the API down (by kind), completions sent again
after a lost answer, and the completions in flight right now (the chaos loop kills the API during
one of them).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.orm import Session

from mom.users import Role, add_user

# (roles, groups, work centers under the area) of the scripted people; a badge is the user name
PEOPLE: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "op-ann": ((Role.OPERATOR,), ("operators",), ("PressLine",)),  # stages material at the press
    "op-carl": ((Role.OPERATOR,), ("operators",), ("CoatLine",)),  # stages material at the coater
    "qa-bob": ((Role.OPERATOR,), ("operators",), ("PressLine", "CoatLine")),  # inspects at both lines
    "sup-eve": ((Role.SUPERVISOR,), ("supervisors",), ()),  # dispositions held lots
}
RETRY_S = (0.3, 0.8)  # a person tries again after a moment
TIMEOUT_S = 20.0  # no answer by then: the answer is lost (the request may or may not have been done)


class ApiRefused(Exception):
    """The API answered with a 4xx other than 401: the request is wrong (or not allowed) as sent."""

    def __init__(self, what: str, response: httpx.Response) -> None:
        super().__init__(f"{what}: HTTP {response.status_code} {response.text[:500]}")
        self.status_code = response.status_code


def add_people(session: Session, *, area_path: str, password: str) -> dict[str, frozenset[str]]:
    """Create the people as API users (as ``mom users add`` does); returns their work center paths."""
    centers = {}
    for name, (roles, groups, lines) in PEOPLE.items():
        paths = [f"{area_path}.{line}" for line in lines]
        add_user(session, username=name, password=password, actor="chaos", roles=roles, groups=groups,
                 work_centers=paths, full_name=name)
        centers[name] = frozenset(paths)
    return centers


@dataclass
class ApiLedger:
    steps: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    """(person, element id) -> steps completed through the API"""
    completed: dict[str, str] = field(default_factory=dict)
    """task id -> the person whose completion the API confirmed"""
    down: collections.Counter[str] = field(default_factory=collections.Counter)
    """attempts that found the API down, by kind: refused, reset, timeout, 5xx"""
    lost_answers: int = 0
    """completion attempts that got no answer (reset or timeout): sent again with the same task id"""
    retried: set[str] = field(default_factory=set)
    """task ids whose completion was sent more than once (a lost answer or a 5xx before)"""
    answer_lost_at: dict[str, float] = field(default_factory=dict)
    """task id -> wall-clock time its first completion attempt without an answer ended"""
    sign_ins: int = 0
    in_flight: dict[int, str] = field(default_factory=dict)
    """request number -> task id of the completions now waiting for an answer"""
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def total(self) -> int:
        return sum(self.steps.values())

    @property
    def down_attempts(self) -> int:
        return sum(self.down.values())


class ApiPerson:
    """One person with a browser: a token, a ledger, and patience until ``deadline``."""

    def __init__(self, name: str, password: str, http: httpx.AsyncClient, ledger: ApiLedger,
                 work_centers: Iterable[str] = ()) -> None:
        self.name = name
        self.password = password
        self.http = http
        self.ledger = ledger
        self.work_centers = frozenset(work_centers)
        self.token: str | None = None
        self._signing_in = asyncio.Lock()

    async def sign_in(self, deadline: float) -> str:
        async with self._signing_in:
            if self.token is None:
                response = await self._send("POST", "/auth/token", deadline, f"{self.name} signs in", auth=False,
                                            data={"username": self.name, "password": self.password})
                if response.status_code != 200:
                    raise ApiRefused(f"{self.name} signs in", response)
                self.token = str(response.json()["access_token"])
                self.ledger.sign_ins += 1
            return self.token

    async def request(self, method: str, path: str, deadline: float, what: str, *, completion_of: str | None = None,
                      **kwargs: Any) -> httpx.Response:
        """The answer of the API to a request sent until it is answered (any status but 401 and 5xx)."""
        while True:
            response = await self._send(method, path, deadline, what, completion_of=completion_of, **kwargs)
            if response.status_code != 401:
                return response
            self.token = None  # expired or no longer valid: sign in again, then send it again
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: still 401 at the deadline: {response.text[:300]}")

    async def _send(self, method: str, path: str, deadline: float, what: str, *, auth: bool = True,
                    completion_of: str | None = None, **kwargs: Any) -> httpx.Response:
        ledger = self.ledger
        while True:
            headers = {"Authorization": f"Bearer {await self.sign_in(deadline)}"} if auth else {}
            number = next(ledger._numbers)
            if completion_of is not None:
                ledger.in_flight[number] = completion_of
            kind = ""
            try:
                response = await self.http.request(method, path, headers=headers, timeout=TIMEOUT_S, **kwargs)
                if response.status_code < 500:
                    return response
                kind, problem = "5xx", f"HTTP {response.status_code} {response.text[:200]}"
            except httpx.ConnectError as exc:  # nobody listens: the API is down or starting
                kind, problem = "refused", repr(exc)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:  # killed mid-request
                kind, problem = "reset", repr(exc)
            except httpx.TimeoutException as exc:
                kind, problem = "timeout", repr(exc)
            finally:
                ledger.in_flight.pop(number, None)
            ledger.down[kind] += 1
            if completion_of is not None:
                ledger.retried.add(completion_of)
                if kind in ("reset", "timeout"):
                    ledger.lost_answers += 1
                    ledger.answer_lost_at.setdefault(completion_of, time.time())
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: the API still does not answer at the deadline: {problem}")
            await asyncio.sleep(RETRY_S[0] + (RETRY_S[1] - RETRY_S[0]) * (number % 7) / 6)

    # ------------------------------------------------------------------ the inbox

    async def inbox(self, deadline: float, **filters: str) -> list[dict[str, Any]]:
        """The open steps offered to me (mine and my groups' unclaimed), filtered as the page does."""
        response = await self.request("GET", "/tasks", deadline, f"{self.name}'s inbox",
                                      params={"scope": "available", "limit": 100, **filters})
        if response.status_code != 200:
            raise ApiRefused(f"{self.name}'s inbox", response)
        return list(response.json()["items"])

    async def instance_status(self, workflow_id: str, deadline: float) -> str | None:
        """The instance's status (running, completed, incident...), None while it is not known."""
        response = await self.request("GET", f"/instances/{workflow_id}/state", deadline, f"state of {workflow_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ApiRefused(f"state of {workflow_id}", response)
        return str(response.json().get("status"))

    async def claim(self, task_id: str, deadline: float) -> dict[str, Any]:
        response = await self.request("POST", f"/tasks/{task_id}/claim", deadline, f"{self.name} claims {task_id}")
        if response.status_code != 200:
            raise ApiRefused(f"{self.name} claims {task_id}", response)
        return dict(response.json())

    async def complete(self, task: dict[str, Any], data: dict[str, Any], deadline: float,
                       reason: str | None = None) -> dict[str, Any]:
        """Complete ``task`` with ``data``, sending it again (same task id) until the API answers."""
        task_id = str(task["task_id"])
        what = f"{self.name} completes {task['element_id']} {task_id} of {task['workflow_id']}"
        response = await self.request("POST", f"/tasks/{task_id}/complete", deadline, what, completion_of=task_id,
                                      json={"data": data, "reason": reason})
        if response.status_code != 200:
            raise ApiRefused(what, response)
        done = dict(response.json())
        if done.get("status") != "completed" or done.get("completed_by") != self.name:
            raise AssertionError(f"{what}: the API answered 200 but the task is {done.get('status')} by "
                                 f"{done.get('completed_by')}")
        if task_id not in self.ledger.completed:
            self.ledger.completed[task_id] = self.name
            self.ledger.steps[(self.name, str(task["element_id"]))] += 1
        return done
