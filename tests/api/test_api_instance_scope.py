"""Instance routes serve process instances only (a message mailbox is not one), and an operator reads
only the instances at their work centers (issue J.12)."""

from __future__ import annotations

import secrets

from api_client import WORK_CENTER, Api
from temporalio.client import Client, WorkflowExecutionStatus
from test_api_inbox import wait_for_task, worker  # noqa: F401 - fixture
from test_api_station_scope import STEP as STATION_STEP

from workflows.contracts import mailbox_id

# the station step under its own process id: its open steps stay out of test_api_station_scope's lists
STEP = STATION_STEP.replace('id="station_step"', 'id="instance_scope_step"')


async def test_a_message_mailbox_is_not_an_instance(api: Api, temporal_client: Client) -> None:
    key = f"J-{secrets.token_hex(4)}"
    published = await api.post("/messages", "sam", json={"name": "job_completed", "correlation_key": key,
                                                         "variables": {"good": 5}})
    assert published.status_code == 202, published.text
    mailbox = mailbox_id("job_completed", key)
    for method, path in (("GET", ""), ("GET", "/state"), ("GET", "/incidents"), ("POST", "/cancel"),
                         ("POST", "/retry")):
        body = {"reason": "poking"} if path == "/cancel" else {"variables": {}} if path == "/retry" else None
        response = await api.http.request(method, f"/instances/{mailbox}{path}", headers=await api.as_("sam"),
                                          json=body)
        assert response.status_code == 404, (path, response.status_code, response.text)
        assert mailbox in response.json()["detail"]
    # the cancel did not reach the mailbox: its message is still kept for an instance to come
    described = await temporal_client.get_workflow_handle(mailbox).describe()
    assert described.status == WorkflowExecutionStatus.RUNNING


async def test_operators_read_only_instances_at_their_work_centers(api: Api, worker: None) -> None:  # noqa: F811
    response = await api.post("/process-definitions", "erin",
                              files={"file": ("instance_scope_step.bpmn", STEP.encode(), "application/xml")})
    assert response.status_code == 201, response.text
    ids = {}
    for center, operator in ((WORK_CENTER, "otto"), ("Acme.Lyon.Welding", "olga")):
        started = await api.post("/instances", "sam", json={"process_id": "instance_scope_step", "variables": {
            "order_id": f"PO-{center}", "qty": 1, "new_qty": 2, "work_center": center}})
        assert started.status_code == 201, started.text
        ids[operator] = started.json()["workflow_id"]
        await wait_for_task(api, ids[operator], user=operator)

    for path in ("", "/state", "/incidents"):
        assert (await api.get(f"/instances/{ids['otto']}{path}", "otto")).status_code == 200
        refused = await api.get(f"/instances/{ids['olga']}{path}", "otto")
        assert refused.status_code == 404, (path, refused.text)
        assert ids["olga"] in refused.json()["detail"] and "otto" in refused.json()["detail"]
        assert (await api.get(f"/instances/{ids['olga']}{path}", "olga")).status_code == 200
        assert (await api.get(f"/instances/{ids['olga']}{path}", "sam")).status_code == 200
    for workflow_id in ids.values():
        cancelled = await api.post(f"/instances/{workflow_id}/cancel", "sam", json={"reason": "test over"})
        assert cancelled.status_code == 202, cancelled.text
