"""Process data over MOM_MAX_VARIABLES_BYTES is refused at the door (413, naming the field) on every
route that passes data to a workflow; before, 3 MB of start variables answered 500 and a 1.5 MB comment
was accepted, then failed the workflow with PayloadsTooLarge every 10 s (issue J.7)."""

from __future__ import annotations

from typing import Any

from api_client import Api
from test_api_inbox import DIAGRAMS, deploy, wait_for_status, wait_for_task, worker  # noqa: F401 - fixture

MB = 1024 * 1024


def assert_too_large(response: Any, field: str) -> None:
    assert response.status_code == 413, response.text[:500]
    detail = response.json()["detail"]
    assert detail["field"] == field and "MOM_MAX_VARIABLES_BYTES" in detail["message"], detail
    assert detail["bytes"] > detail["limit"] == 256 * 1024


async def test_data_over_the_limit_is_refused_naming_the_field(api: Api, worker: None) -> None:  # noqa: F811
    await deploy(api, "approval.bpmn")
    start = {"process_id": "approval", "variables": {"order_id": "PO-S", "qty": 1, "new_qty": 2, "blob": "x" * 3 * MB}}
    assert_too_large(await api.post("/instances", "sam", json=start), "variables")
    message = {"name": "job_completed", "correlation_key": "J-1", "variables": {"blob": "x" * 3 * MB}}
    assert_too_large(await api.post("/messages", "sam", json=message), "variables")
    assert_too_large(await api.post("/instances/approval-nobody/retry", "sam",
                                    json={"variables": {"blob": "x" * MB}}), "variables")
    trial = {"xml": (DIAGRAMS / "approval.bpmn").read_text(),
             "variables": {"blob": "x" * 300 * 1024}}
    assert_too_large(await api.post("/lint/test-run", "erin", json=trial), "variables")

    # just under the limit: accepted, and the instance runs
    start["variables"]["blob"] = "x" * 200 * 1024
    started = await api.post("/instances", "sam", json=start)
    assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]
    task = await wait_for_task(api, workflow_id)

    # 1.5 MB of comment: refused, nothing reaches the workflow; the task is still open and completes
    big = {"data": {"approved": True, "comment": "y" * (3 * MB // 2)}}
    assert_too_large(await api.post(f"/tasks/{task['task_id']}/complete", "sue", json=big), "data")
    state = (await api.get(f"/instances/{workflow_id}/state", "sam")).json()
    assert state["status"] == "running" and state["user_tasks"], state
    done = await api.post(f"/tasks/{task['task_id']}/complete", "sue", json={"data": {"approved": True,
                                                                                      "comment": "fine"}})
    assert done.status_code == 200, done.text
    final = await wait_for_status(api, workflow_id, "completed")
    assert len(final["variables"]["blob"]) == 200 * 1024
