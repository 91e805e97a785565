"""The inbox end to end with a real workflow: deploy approval.bpmn through the API, start an
instance, the user task appears in the supervisors' inbox with its form, refusals (403, 404, 409,
422), completion goes to the workflow once (a double click completes once), and is audited once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from api_client import Api
from temporalio.client import Client

from mom.db import create_database_engine
from mom.db.models import AuditEntry
from mom.settings import Settings
from worker import build_worker

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"


@pytest.fixture
async def worker(temporal_client: Client, settings: Settings) -> AsyncIterator[None]:
    async with build_worker(temporal_client, settings, queue=settings.task_queue):
        yield


async def deploy(api: Api, diagram: str, user: str = "erin") -> dict[str, Any]:
    data = (DIAGRAMS / diagram).read_bytes()
    response = await api.post("/process-definitions", user, files={"file": (diagram, data, "application/xml")})
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def wait_for_task(api: Api, workflow_id: str, user: str = "sam", timeout: float = 15) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        response = await api.get("/tasks", user, params={"workflow_id": workflow_id})
        assert response.status_code == 200, response.text
        if response.json()["items"]:
            return dict(response.json()["items"][0])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no inbox task for {workflow_id} within {timeout} s")


async def wait_for_status(api: Api, workflow_id: str, wanted: str, timeout: float = 15) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    body: dict[str, Any] = {}
    while asyncio.get_running_loop().time() < deadline:
        body = (await api.get(f"/instances/{workflow_id}/state", "sam")).json()
        if body.get("status") == wanted:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{workflow_id} not {wanted} within {timeout} s: {body}")


def audit_count(settings: Settings, action: str, entity_id: str) -> int:
    engine = create_database_engine(settings.effective_database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(AuditEntry).where(
                AuditEntry.action == action, AuditEntry.entity_id == entity_id)).scalar_one())
    finally:
        engine.dispose()


async def test_approval_task_from_inbox_to_completed_instance(api: Api, worker: None, settings: Settings) -> None:
    deployed = await deploy(api, "approval.bpmn")
    assert deployed["process_id"] == "approval" and deployed["version"] == 1
    started = await api.post("/instances", "sam", json={"process_id": "approval", "business_key": "PO-1",
                                                        "variables": {"order_id": "PO-1", "qty": 20, "new_qty": 30}})
    assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]

    task = await wait_for_task(api, workflow_id)
    assert task["name"] == "Approve quantity change" and task["candidate_groups"] == ["supervisors"]
    assert task["process_id"] == "approval" and task["business_key"] == "PO-1"
    assert task["context"] == {"order": "PO-1"} and task["priority"] == 50
    assert task["form_schema"]["required"] == ["comment"] and task["requested_by"] == "sam"
    task_id = task["task_id"]

    # not offered to operators; unknown task; invalid form data (errors per field, nothing sent)
    assert (await api.get("/tasks", "otto", params={"workflow_id": workflow_id})).json()["total"] == 0
    refused = await api.post(f"/tasks/{task_id}/complete", "otto", json={"data": {"approved": True, "comment": "ok"}})
    assert refused.status_code == 403 and "supervisors" in refused.json()["detail"]
    assert (await api.post("/tasks/no-such-task/complete", "sam", json={"data": {}})).status_code == 404
    invalid = await api.post(f"/tasks/{task_id}/complete", "sam", json={"data": {"approved": "yes"}})
    assert invalid.status_code == 422
    assert set(invalid.json()["detail"]["errors"]) == {"approved", "comment"}
    assert (await api.get(f"/instances/{workflow_id}/state", "sam")).json()["status"] == "running"

    # claim: sue takes it; sam may then neither claim nor complete it; sue releases it
    assert (await api.post(f"/tasks/{task_id}/claim", "sue")).json()["assignee"] == "sue"
    assert (await api.post(f"/tasks/{task_id}/claim", "sam")).status_code == 409
    assert (await api.post(f"/tasks/{task_id}/complete", "sam",
                           json={"data": {"approved": True, "comment": "fine"}})).status_code == 403
    mine = await api.get("/tasks", "sue", params={"scope": "mine", "workflow_id": workflow_id})
    assert [t["task_id"] for t in mine.json()["items"]] == [task_id]
    assert (await api.post(f"/tasks/{task_id}/unclaim", "sue")).json()["assignee"] is None

    # a double click: two concurrent completions, one effect, the same answer
    body = {"data": {"approved": True, "comment": "fine"}, "reason": "customer asked"}
    first, second = await asyncio.gather(api.post(f"/tasks/{task_id}/complete", "sam", json=body),
                                         api.post(f"/tasks/{task_id}/complete", "sam", json=body))
    assert first.status_code == 200 and second.status_code == 200, (first.text, second.text)
    assert first.json()["status"] == "completed" and first.json()["completed_by"] == "sam"
    assert first.json()["result"] == body["data"]
    third = await api.post(f"/tasks/{task_id}/complete", "sam", json=body)
    assert third.json() == first.json()
    assert (await api.post(f"/tasks/{task_id}/complete", "sue", json=body)).status_code == 409

    final = await wait_for_status(api, workflow_id, "completed")
    assert final["variables"]["qty"] == 30 and "apply" in final["completed"]
    await asyncio.sleep(0.5)  # let the workflow's close_task activity run: it must not audit again
    assert audit_count(settings, "task.approved", task_id) == 1
    assert (await api.get(f"/tasks/{task_id}", "sam")).json()["status"] == "completed"
    assert (await api.get("/tasks", "sam", params={"workflow_id": workflow_id})).json()["total"] == 0
    instance = await api.get(f"/instances/{workflow_id}", "sam")
    assert instance.json()["status"] == "completed" and instance.json()["started_by"] == "sam"


async def test_four_eyes_refuses_the_requester(api: Api, worker: None, settings: Settings, data_dir: Path) -> None:
    xml = (DIAGRAMS / "approval.bpmn").read_text().replace(
        '<zeebe:input source="=order_id" target="order" />',
        '<zeebe:input source="=order_id" target="order" />\n'
        '          <zeebe:input source="=True" target="four_eyes" />',
    ).replace('id="approval"', 'id="approval_4eyes"')
    response = await api.post("/process-definitions", "erin",
                              files={"file": ("approval_4eyes.bpmn", xml.encode(), "application/xml")})
    assert response.status_code == 201, response.text
    started = await api.post("/instances", "sam", json={"process_id": "approval_4eyes",
                                                        "variables": {"order_id": "PO-2", "qty": 200, "new_qty": 3}})
    workflow_id = started.json()["workflow_id"]
    task = await wait_for_task(api, workflow_id)
    assert task["four_eyes"] is True and task["priority"] == 70
    body = {"data": {"approved": False, "comment": "no way"}}
    refused = await api.post(f"/tasks/{task['task_id']}/complete", "sam", json=body)
    assert refused.status_code == 403 and "four eyes" in refused.json()["detail"]
    done = await api.post(f"/tasks/{task['task_id']}/complete", "sue", json=body)
    assert done.status_code == 200, done.text
    assert audit_count(settings, "task.rejected", task["task_id"]) == 1
    await wait_for_status(api, workflow_id, "completed")
