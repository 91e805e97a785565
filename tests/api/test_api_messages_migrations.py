"""Publishing a BPMN message to a waiting instance, and migrating running instances to a new
version (dry run, then for real, audited) through the API; refusals."""

from __future__ import annotations

import secrets

from api_client import Api
from test_api_inbox import DIAGRAMS, deploy, wait_for_status, wait_for_task, worker  # noqa: F401 - fixture

# v2 adds a notification after the approval (what the instance did so far is unchanged: safe)
V2_STEP = ('<bpmn:sequenceFlow id="f4" sourceRef="apply" targetRef="notify" />'
           '<bpmn:serviceTask id="notify" name="Notify operators"><bpmn:extensionElements>'
           '<zeebe:taskDefinition type="mom.log" /><zeebe:ioMapping>'
           '<zeebe:input source="=&quot;new quantity&quot;" target="message" />'
           '</zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>'
           '<bpmn:sequenceFlow id="f5" sourceRef="notify" targetRef="end_applied" />')


async def test_message_reaches_the_waiting_instance(api: Api, worker: None) -> None:  # noqa: F811
    await deploy(api, "job_messages.bpmn")
    job_id = f"J-{secrets.token_hex(4)}"
    started = await api.post("/instances", "sam", json={"process_id": "job_messages",
                                                        "variables": {"job_id": job_id, "order_id": f"O-{job_id}"}})
    assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]
    published = await api.post("/messages", "sam", json={"name": "job_completed", "correlation_key": job_id,
                                                         "variables": {"good": 5}, "message_id": f"m-{job_id}"})
    assert published.status_code == 202, published.text
    assert published.json()["message_id"] == f"m-{job_id}" and published.json()["ttl_seconds"] == 3600
    final = await wait_for_status(api, workflow_id, "completed")
    assert final["variables"]["good"] == 5 and "done" in final["completed"]


async def test_message_refusals(api: Api) -> None:
    body = {"name": "job_completed", "correlation_key": "J-1"}
    assert (await api.http.post("/messages", json=body)).status_code == 401
    assert (await api.post("/messages", "otto", json=body)).status_code == 403
    assert (await api.post("/messages", "sam", json={"name": ""})).status_code == 422
    assert (await api.post("/messages", "sam", json={**body, "ttl_seconds": -1})).status_code == 422
    assert (await api.post("/messages", "sam", json={**body, "message_id": "not an id!"})).status_code == 422


async def test_migrate_running_instances(api: Api, worker: None) -> None:  # noqa: F811
    process_id = f"approval_mig_{secrets.token_hex(3)}"
    v1 = (DIAGRAMS / "approval.bpmn").read_text().replace('id="approval"', f'id="{process_id}"')
    v2 = v1.replace('<bpmn:sequenceFlow id="f4" sourceRef="apply" targetRef="end_applied" />', V2_STEP)
    assert v2 != v1
    files = {"file": ("approval.bpmn", v1.encode(), "application/xml")}
    assert (await api.post("/process-definitions", "erin", files=files)).status_code == 201
    started = await api.post("/instances", "sam", json={"process_id": process_id,
                                                        "variables": {"order_id": "PO-M", "qty": 1, "new_qty": 2}})
    workflow_id = started.json()["workflow_id"]
    await wait_for_task(api, workflow_id)
    files = {"file": ("approval.bpmn", v2.encode(), "application/xml")}
    deployed = await api.post("/process-definitions", "erin", files=files)
    assert deployed.status_code == 201 and deployed.json()["version"] == 2

    body = {"process_id": process_id, "to_version": 2}
    assert (await api.http.post("/instances/migrations", json=body)).status_code == 401
    assert (await api.post("/instances/migrations", "sam", json=body)).status_code == 403
    assert (await api.post("/instances/migrations", "erin", json={**body, "to_version": 0})).status_code == 422
    missing = await api.post("/instances/migrations", "erin", json={**body, "to_version": 9})
    assert missing.status_code == 404 and "version 9" in missing.json()["detail"]

    dry = await api.post("/instances/migrations", "erin", json=body)
    assert dry.status_code == 200, dry.text
    assert [(v["instance_id"], v["safe"], v["migrated"]) for v in dry.json()["verdicts"]] == [
        (workflow_id, True, False)]
    done = await api.post("/instances/migrations", "erin", json={**body, "dry_run": False, "reason": "notify"})
    assert [(v["safe"], v["migrated"]) for v in done.json()["verdicts"]] == [(True, True)]
    audit = await api.get("/audit", "erin", params={"action": "instance.migrated", "entity_id": workflow_id})
    (entry,) = audit.json()["items"]
    assert entry["actor"] == "erin" and entry["reason"] == "notify" and entry["details"]["to_version"] == 2
    await api.post(f"/instances/{workflow_id}/cancel", "sam", json={"reason": "test done"})
