"""The instance list says what happened, within a second, without anyone opening an instance (issue K):
an incident shows in ``GET /instances`` and its incident filter, a retry clears it, an end shows with
its true end time, and instances started outside the API (a call activity's) are listed. Only the
list is read until the checks are made (never ``/instances/{id}``, which refreshed the old rows)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from api_client import Api
from temporalio.client import Client
from test_api_inbox import deploy, worker  # noqa: F401 - fixture

SEEN_WITHIN = timedelta(seconds=2)  # visibility on the dev server: a few ms; polled every 0.1 s


async def listed_when(api: Api, params: dict[str, Any], found: Any, timeout: float = 20) -> tuple[dict[str, Any],
                                                                                                datetime]:
    """The first list row for which ``found(row)`` holds, and when the list first showed it."""
    deadline = asyncio.get_running_loop().time() + timeout
    items: list[dict[str, Any]] = []
    while asyncio.get_running_loop().time() < deadline:
        response = await api.get("/instances", "otto", params=params)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        row = next((i for i in items if found(i)), None)
        if row is not None:
            return row, datetime.now(UTC)
        await asyncio.sleep(0.1)
    raise AssertionError(f"GET /instances {params}: nothing matched within {timeout} s: {items}")


async def test_incident_retry_and_end_show_in_the_list(api: Api, worker: None,  # noqa: F811
                                                       temporal_client: Client) -> None:
    await deploy(api, "incident.bpmn")
    tag = uuid.uuid4().hex[:8]  # one Temporal server for the session: keys of this run only
    key = f"LSA{tag}.a"
    started = await api.post("/instances", "erin", json={"process_id": "incident", "business_key": key,
                                                         "variables": {"good": 0, "bad": 0, "settle_seconds": 0}})
    assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]

    row, seen = await listed_when(api, {"with_open_incidents": "true", "process_id": "incident"},
                                  lambda i: i["workflow_id"] == workflow_id)
    assert row["status"] == "running" and row["open_incident"] is True and row["active"] == ["scrap_rate"], row
    assert row["business_key"] == key and row["started_by"] == "erin" and row["version"] == 1, row
    incident = (await api.get(f"/instances/{workflow_id}/incidents", "sam")).json()[0]
    assert seen - datetime.fromisoformat(incident["at"]) < SEEN_WITHIN, (seen, incident)
    # the other filters agree; a prefix is a prefix (its '_' and '%' are no wildcards)
    for params in ({"status": "running", "business_key": key}, {"business_key_prefix": f"LSA{tag}"}):
        page = (await api.get("/instances", "otto", params=params)).json()
        assert [i["workflow_id"] for i in page["items"]] == [workflow_id] and page["total"] == 1, (params, page)
    for params in ({"with_open_incidents": "false", "business_key": key}, {"business_key_prefix": f"LSB{tag}"},
                   {"business_key_prefix": "LS%"}, {"business_key_prefix": f"LS_{tag}"},
                   {"status": "completed", "business_key": key}):
        assert (await api.get("/instances", "otto", params=params)).json()["items"] == [], params
    for odd in ("a'b", "a\\'b", "x\x00y", "é漢"):  # quoted into the visibility query, never a 500
        for name in ("process_id", "business_key_prefix"):
            answer = await api.get("/instances", "otto", params={name: odd})
            assert answer.status_code == 200 and answer.json()["items"] == [], (name, odd, answer.text)

    retried = await api.post(f"/instances/{workflow_id}/retry", "sam", json={"variables": {"good": 9, "bad": 1}})
    assert retried.status_code == 200, retried.text
    row, seen = await listed_when(api, {"business_key": key}, lambda i: i["status"] == "completed")
    assert row["open_incident"] is False and row["active"] == [], row
    closed = (await temporal_client.get_workflow_handle(workflow_id).describe()).close_time
    assert closed is not None and row["ended_at"] is not None
    assert abs(datetime.fromisoformat(row["ended_at"]) - closed) < timedelta(seconds=1), (row, closed)
    assert seen - closed < SEEN_WITHIN, (seen, closed)
    assert (await api.get("/instances", "otto", params={"with_open_incidents": "true",
                                                       "business_key": key})).json()["items"] == []


async def test_a_called_instance_is_listed_with_its_incident(api: Api, worker: None) -> None:  # noqa: F811
    for name in ("call_child.bpmn", "call_parent.bpmn"):
        await deploy(api, name)
    key = f"CALL-{uuid.uuid4().hex[:8]}"
    started = await api.post("/instances", "erin", json={"process_id": "call_parent", "business_key": key,
                                                         "variables": {"lot": "L9", "measured": 0}})
    assert started.status_code == 201, started.text
    parent = started.json()["workflow_id"]

    child, _ = await listed_when(api, {"process_id": "call_child", "with_open_incidents": "true"},
                                 lambda i: i["workflow_id"].startswith(f"{parent}/"))
    assert child["status"] == "running" and child["business_key"] == key and child["version"] == 1, child
    assert child["active"] == ["grade_lot"], child
    shown, _ = await listed_when(api, {"process_id": "call_parent", "with_open_incidents": "true"},
                                 lambda i: i["workflow_id"] == parent)
    assert "inspect" in shown["active"], shown  # the call activity waits for the called instance

    retried = await api.post(f"/instances/{child['workflow_id']}/retry", "sam", json={"variables": {"measured": 4}})
    assert retried.status_code == 200, retried.text
    for process_id in ("call_child", "call_parent"):
        await listed_when(api, {"process_id": process_id, "business_key": key, "status": "completed"},
                          lambda i: i["open_incident"] is False)


async def test_a_started_instance_is_listed_when_the_start_is_answered(api: Api) -> None:
    """No worker runs it yet: the start gives process, version, business key and starter, and the API
    answers once the list has it (a page that lists right after starting finds it)."""
    await deploy(api, "incident.bpmn")
    key = f"NOW-{uuid.uuid4().hex[:8]}"
    started = await api.post("/instances", "erin", json={"process_id": "incident", "business_key": key})
    assert started.status_code == 201, started.text
    page = (await api.get("/instances", "otto", params={"process_id": "incident", "business_key": key})).json()
    assert [(i["workflow_id"], i["status"], i["version"], i["started_by"]) for i in page["items"]] == [
        (started.json()["workflow_id"], "running", 1, "erin")], page
