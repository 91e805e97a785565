"""Process definitions and instances through the API: success paths and refusals."""

from __future__ import annotations

import uuid
from pathlib import Path

from api_client import Api
from temporalio.client import Client
from test_api_inbox import DIAGRAMS, deploy, wait_for_status, worker  # noqa: F401 - fixture

from mom.settings import Settings
from worker import build_worker

BROKEN = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="broken" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="nowhere" />
  </bpmn:process>
</bpmn:definitions>"""


async def test_deploy_list_versions_xml(api: Api) -> None:
    first = await deploy(api, "parallel_logs.bpmn")
    assert first["created"] is True and first["definition"]["deployed_by"] == "erin"
    process_id = first["process_id"]
    again = await api.post("/process-definitions", "erin", files={
        "file": ("parallel_logs.bpmn", (DIAGRAMS / "parallel_logs.bpmn").read_bytes(), "application/xml")})
    assert again.status_code == 200 and again.json()["created"] is False
    listed = await api.get("/process-definitions", "otto", params={"process_id": process_id})
    assert listed.status_code == 200 and listed.json()["total"] == 1
    versions = await api.get(f"/process-definitions/{process_id}/versions", "sam")
    assert [v["version"] for v in versions.json()["items"]] == [1]
    xml = await api.get(f"/process-definitions/{process_id}/versions/1/xml", "sam")
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    assert xml.content == (DIAGRAMS / "parallel_logs.bpmn").read_bytes()
    assert (await api.get(f"/process-definitions/{process_id}/versions/9/xml", "sam")).status_code == 404
    assert (await api.get("/process-definitions/nope", "sam")).status_code == 404
    assert (await api.get("/process-definitions/nope/versions", "sam")).status_code == 404


async def test_deploy_refusals(api: Api) -> None:
    files = {"file": ("broken.bpmn", BROKEN, "application/xml")}
    assert (await api.http.post("/process-definitions", files=files)).status_code == 401
    assert (await api.post("/process-definitions", "sam", files=files)).status_code == 403
    response = await api.post("/process-definitions", "erin", files=files)
    assert response.status_code == 422
    problems = response.json()["detail"]["problems"]
    assert problems and all({"file", "line", "element_id", "message"} <= set(p) for p in problems)
    assert any("nowhere" in p["message"] or p["element_id"] == "f1" for p in problems), problems
    assert (await api.post("/process-definitions", "erin")).status_code == 422  # no file


async def test_instance_start_refusals(api: Api) -> None:
    unknown = await api.post("/instances", "sam", json={"process_id": "never_deployed"})
    assert unknown.status_code == 404 and "never_deployed" in unknown.json()["detail"]
    assert (await api.post("/instances", "otto", json={"process_id": "approval"})).status_code == 403
    assert (await api.post("/instances", "sam", json={"process_id": "bad id!"})).status_code == 422
    assert (await api.get("/instances/no-such-instance", "sam")).status_code == 404
    assert (await api.get("/instances/no-such-instance/state", "sam")).status_code == 404
    assert (await api.post("/instances/no-such-instance/cancel", "sam", json={})).status_code == 404


async def test_incident_retry_cancel_and_list(api: Api, worker: None) -> None:  # noqa: F811
    await deploy(api, "incident.bpmn")
    key = f"B-{uuid.uuid4().hex[:8]}"  # the list reads the session's one Temporal server: this run's key
    started = await api.post("/instances", "erin", json={"process_id": "incident", "business_key": key,
                                                         "variables": {"good": 0, "bad": 0, "settle_seconds": 0}})
    assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]
    duplicate = await api.post("/instances", "erin", json={"process_id": "incident", "business_key": key})
    assert duplicate.status_code == 409
    await wait_for_status(api, workflow_id, "incident")
    incidents = (await api.get(f"/instances/{workflow_id}/incidents", "sam")).json()
    assert incidents[0]["element_id"] == "scrap_rate" and "division" in incidents[0]["message"]
    assert (await api.post(f"/instances/{workflow_id}/retry", "otto", json={})).status_code == 403
    retried = await api.post(f"/instances/{workflow_id}/retry", "sam", json={"variables": {"good": 9, "bad": 1}})
    assert retried.status_code == 200, retried.text
    await wait_for_status(api, workflow_id, "completed")
    assert (await api.post(f"/instances/{workflow_id}/retry", "sam", json={})).status_code == 409
    listed = await api.get("/instances", "otto", params={"process_id": "incident", "business_key": key})
    assert [i["workflow_id"] for i in listed.json()["items"]] == [workflow_id]
    assert (await api.get("/instances", "otto", params={"status": "bogus"})).status_code == 422


async def test_cancel_a_waiting_instance(api: Api, worker: None, data_dir: Path) -> None:  # noqa: F811
    await deploy(api, "approval.bpmn")
    started = await api.post("/instances", "sam", json={"process_id": "approval",
                                                        "variables": {"order_id": "PO-9", "qty": 1, "new_qty": 2}})
    workflow_id = started.json()["workflow_id"]
    cancelled = await api.post(f"/instances/{workflow_id}/cancel", "sam", json={"reason": "order withdrawn"})
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
    again = await api.post(f"/instances/{workflow_id}/cancel", "sam", json={})
    assert again.status_code in (202, 409)


async def test_a_process_deployed_through_the_api_runs_on_a_worker_with_another_data_directory(
        api: Api, settings: Settings, temporal_client: Client, tmp_path: Path) -> None:
    """No disk shared between the API and workers (issue K): the worker's data directory is not the
    API's, only the database and Temporal are shared."""
    elsewhere = tmp_path / "worker-host"
    elsewhere.mkdir()
    assert elsewhere != settings.data_dir
    await deploy(api, "call_child.bpmn")
    await deploy(api, "call_parent.bpmn")
    async with build_worker(temporal_client, settings.model_copy(update={"data_dir": elsewhere}),
                            queue=settings.task_queue):
        started = await api.post("/instances", "erin", json={"process_id": "call_parent",
                                                             "variables": {"lot": "L7", "measured": 5}})
        assert started.status_code == 201, started.text
        await wait_for_status(api, started.json()["workflow_id"], "completed")
    assert not {"specs", "processes", "sources"} & {p.name for p in settings.data_dir.iterdir()}
