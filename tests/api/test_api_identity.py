"""Who did it comes from the signed-in token (issue J.2, J.3), over HTTP against the real API,
Temporal and a worker: the requester of a four-eyes approval is whoever started the instance (a
start variable ``requested_by`` is refused, a diagram input ``requested_by`` is not used), and the
audit trail names the signed-in user, or the worker acting for them, never a typed badge or a
diagram's literal."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from api_client import PASSWORD, Api
from plant_data import seed_plant
from temporalio.client import Client
from temporalio.service import RPCError
from test_api_inbox import DIAGRAMS, wait_for_status, wait_for_task

from mom.db import create_database_engine, create_session_factory, execution
from mom.db.models import AuditEntry
from mom.db.orders import create_production_order, get_production_order_by_number
from mom.db.transactions import writing
from mom.plant_setup import PRODUCT, create_demo_plant
from mom.settings import Settings
from worker import build_worker

PROCESSES = Path(__file__).resolve().parents[2] / "bpmn" / "processes"


@pytest.fixture
async def worker(temporal_client: Client, settings: Settings) -> AsyncIterator[None]:
    async with build_worker(temporal_client, settings, queue=settings.task_queue):
        yield


async def deploy_reference(api: Api, name: str) -> None:
    deployed = await api.post("/process-definitions", "erin",
                              files={"file": (f"{name}.bpmn", (PROCESSES / f"{name}.bpmn").read_bytes())})
    assert deployed.status_code in (200, 201), deployed.text


def audit_entries(settings: Settings, **where: str) -> list[AuditEntry]:
    engine = create_database_engine(settings.effective_database_url)
    try:
        with create_session_factory(engine)() as session:
            query = sa.select(AuditEntry).order_by(AuditEntry.seq)
            for name, value in where.items():
                query = query.where(getattr(AuditEntry, name) == value)
            rows = list(session.scalars(query))
            session.expunge_all()
            return rows
    finally:
        engine.dispose()


async def wait_for_audit(settings: Settings, timeout: float = 30, **where: str) -> list[AuditEntry]:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        rows = audit_entries(settings, **where)
        if rows:
            return rows
        await asyncio.sleep(0.2)
    raise AssertionError(f"no audit entry {where} within {timeout} s")


def seed_demand(settings: Settings) -> None:
    """The demo plant (fake machine endpoints: the demand change never talks to machines) and two
    dispatched orders sharing the work centers."""
    engine = create_database_engine(settings.effective_database_url)
    with writing(create_session_factory(engine)) as session:
        create_demo_plant(session, site="Lyon", enterprise="AcmeId", endpoints={
            "Press1": "opc.tcp://127.0.0.1:1", "Coater1": "opc.tcp://127.0.0.1:2"})
        for number in ("PO-ID1", "PO-ID2"):
            create_production_order(session, order_number=number, product_code=PRODUCT, quantity=100, actor="erp")
            execution.release_order(session, order_number=number, actor="erp")
            execution.dispatch_order(session, order_number=number, actor="planner")
        get_production_order_by_number(session, order_number="PO-ID1").due_at = datetime.now(UTC) + timedelta(hours=1)
    engine.dispose()


async def test_the_requester_is_who_started_the_demand_change(api: Api, worker: None, settings: Settings) -> None:
    seed_demand(settings)
    await deploy_reference(api, "demand_change")
    variables: dict[str, Any] = {"order_number": "PO-ID1", "new_quantity": 120}

    # a supervisor naming another supervisor as the requester: refused, naming the field
    forged = await api.post("/instances", "sam", json={"process_id": "demand_change", "business_key": "PO-ID1-a",
                                                       "variables": {**variables, "requested_by": "sue"}})
    assert forged.status_code == 422 and "variables.requested_by" in forged.text, forged.text
    forged = await api.post("/instances", "sam", json={"process_id": "demand_change", "business_key": "PO-ID1-b",
                                                       "variables": {**variables, "started_by": "erp"}})
    assert forged.status_code == 422 and "variables.started_by" in forged.text, forged.text

    # omitted: the requester is sam (who started it), not the diagram's old default 'erp'
    started = await api.post("/instances", "sam", json={"process_id": "demand_change", "business_key": "PO-ID1-c",
                                                        "variables": variables})
    assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]
    task = await wait_for_task(api, workflow_id, timeout=60)
    assert task["element_id"] == "approve" and task["four_eyes"] is True
    assert task["requested_by"] == "sam"
    body = {"data": {"approved": True, "approved_by": "B-4711", "comment": "fine by me"}}
    refused = await api.post(f"/tasks/{task['task_id']}/complete", "sam", json=body)
    assert refused.status_code == 403 and "four eyes" in refused.json()["detail"], refused.text
    unsigned = await api.post(f"/tasks/{task['task_id']}/complete", "sue", json=body)
    assert task["signature"] == "approved by" and unsigned.status_code == 422, unsigned.text  # an e-signature
    done = await api.post(f"/tasks/{task['task_id']}/complete", "sue", json={**body, "password": PASSWORD})
    assert done.status_code == 200, done.text
    await wait_for_status(api, workflow_id, "completed", timeout=60)

    # the order's change is audited as the worker acting for sue; the typed badge is kept as a detail
    changed = await wait_for_audit(settings, action="production_order.demand_changed",
                                   entity_id=f"PO-ID1@{workflow_id}")
    assert [e.actor for e in changed] == ["worker for sue"], [(e.actor, e.details) for e in changed]
    assert changed[0].details["noted"] == {"approved_by": "B-4711"}
    assert [e.actor for e in audit_entries(settings, action="production_order.quantity_changed",
                                           entity_id="PO-ID1")] == ["worker for sue"]
    approved = audit_entries(settings, action="task.approved", entity_id=task["task_id"])
    assert [(e.actor, e.details["signature"]["meaning"]) for e in approved] == [("sue", "approved by")]
    assert not audit_entries(settings, actor="B-4711")


async def test_start_production_and_a_lot_hold_are_audited_for_the_signed_in_user(
        api: Api, worker: None, settings: Settings, temporal_client: Client) -> None:
    plant = seed_plant(api.database)
    number = f"PO-{plant.tag}-ID"
    created = await api.post("/orders", "sam", json={"order_number": number, "product_code": plant.product,
                                                     "quantity": "10", "due_at": "2026-03-05T12:00:00Z"})
    assert created.status_code == 201, created.text
    await deploy_reference(api, "production_order")
    await deploy_reference(api, "quality_deviation")

    started_ids: list[str] = []
    try:
        # "Start production" by sam: the order's release names sam, not the diagram's 'erp'
        started = await api.post("/instances", "sam", json={"process_id": "production_order", "business_key": number,
                                                            "variables": {"order_number": number}})
        assert started.status_code == 201, started.text
        started_ids.append(started.json()["workflow_id"])
        released = await wait_for_audit(settings, action="production_order.status_changed", entity_id=number)
        assert {e.actor for e in released} == {"worker for sam"}, [(e.actor, e.reason) for e in released]
        assert released[0].details["noted"] == {"released_by": "erp"}

        # a quality deviation started by sue holds the lot for sue; the diagram's held_by='quality' is a detail
        deviation = await api.post("/instances", "sue", json={"process_id": "quality_deviation", "variables": {
            "lot": plant.bracket_lot, "reason": "burr on the edge", "measured_value": 3.0}})
        assert deviation.status_code == 201, deviation.text
        started_ids.append(deviation.json()["workflow_id"])
        held = await wait_for_audit(settings, action="lot.status_changed", entity_id=plant.bracket_lot)
        assert [(e.actor, e.details["noted"]) for e in held] == [("worker for sue", {"held_by": "quality"})]
        assert not audit_entries(settings, actor="quality")
        assert "erp" not in {e.actor for e in audit_entries(settings, entity_id=number)}
    finally:  # no production_order left running: an ECO's migration queries every running one
        for workflow_id in started_ids:
            with contextlib.suppress(RPCError):  # already ended
                await temporal_client.get_workflow_handle(workflow_id).terminate("test done")


async def test_a_diagram_cannot_name_the_requester(api: Api, worker: None, settings: Settings) -> None:
    """A four-eyes task whose inputs say requested_by='sue': the requester is still sam, who started it."""
    xml = (DIAGRAMS / "approval.bpmn").read_text().replace(
        '<zeebe:input source="=order_id" target="order" />',
        '<zeebe:input source="=order_id" target="order" />\n'
        '          <zeebe:input source="=True" target="four_eyes" />\n'
        "          <zeebe:input source=\"='sue'\" target=\"requested_by\" />",
    ).replace('id="approval"', 'id="approval_named"')
    response = await api.post("/process-definitions", "erin",
                              files={"file": ("approval_named.bpmn", xml.encode(), "application/xml")})
    assert response.status_code == 201, response.text
    started = await api.post("/instances", "sam", json={"process_id": "approval_named",
                                                        "variables": {"order_id": "PO-N", "qty": 2, "new_qty": 3}})
    assert started.status_code == 201, started.text
    task = await wait_for_task(api, started.json()["workflow_id"])
    assert task["requested_by"] == "sam"
    body = {"data": {"approved": True, "comment": "mine"}}
    refused = await api.post(f"/tasks/{task['task_id']}/complete", "sam", json=body)
    assert refused.status_code == 403 and "four eyes" in refused.json()["detail"], refused.text
    assert (await api.post(f"/tasks/{task['task_id']}/complete", "sue", json=body)).status_code == 200


def signed_approval() -> bytes:
    """approval.bpmn with its task marked for an e-signature meaning 'approved by'."""
    return (DIAGRAMS / "approval.bpmn").read_text().replace(
        '<zeebe:assignmentDefinition candidateGroups="supervisors" />',
        '<zeebe:assignmentDefinition candidateGroups="supervisors" />\n'
        '        <zeebe:taskHeaders>\n'
        '          <zeebe:header key="signature" value="approved by" />\n'
        '        </zeebe:taskHeaders>',
    ).replace('id="approval"', 'id="approval_signed"').encode()


async def test_a_task_marked_for_signature_needs_the_password_again(
        api: Api, worker: None, settings: Settings) -> None:
    deployed = await api.post("/process-definitions", "erin",
                              files={"file": ("approval_signed.bpmn", signed_approval(), "application/xml")})
    assert deployed.status_code == 201, deployed.text
    started = await api.post("/instances", "sam", json={"process_id": "approval_signed",
                                                        "variables": {"order_id": "PO-S", "qty": 2, "new_qty": 3}})
    assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]
    task = await wait_for_task(api, workflow_id)
    assert task["signature"] == "approved by"
    url, data = f"/tasks/{task['task_id']}/complete", {"approved": True, "comment": "signed"}

    missing = await api.post(url, "sue", json={"data": data})
    assert missing.status_code == 422 and "password" in missing.json()["detail"]["errors"], missing.text
    wrong = await api.post(url, "sue", json={"data": data, "password": "not-sues-password"})
    assert wrong.status_code == 403 and "password" in wrong.json()["detail"], wrong.text
    assert (await api.get(f"/tasks/{task['task_id']}", "sue")).json()["status"] == "open"

    done = await api.post(url, "sue", json={"data": data, "password": PASSWORD})
    assert done.status_code == 200, done.text
    assert done.json()["completed_by"] == "sue" and "password" not in done.json()["result"]
    await wait_for_status(api, workflow_id, "completed")
    signed = await wait_for_audit(settings, action="task.approved", entity_id=task["task_id"])
    assert len(signed) == 1 and signed[0].actor == "sue"
    signature = signed[0].details["signature"]
    assert (signature["meaning"], signature["signed_by"]) == ("approved by", "sue") and signature["signed_at"]
    assert PASSWORD not in str(signed[0].details)


THROWER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="D_ask" targetNamespace="http://x">
  <bpmn:message id="Msg_ask" name="change_asked">
    <bpmn:extensionElements><zeebe:subscription correlationKey="=order_id" /></bpmn:extensionElements>
  </bpmn:message>
  <bpmn:process id="ask_change" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateThrowEvent id="ask" name="Ask for the change">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="Msg_ask" />
    </bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask" />
    <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""

RECEIVER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="D_take" targetNamespace="http://x">
  <bpmn:message id="Msg_ask" name="change_asked" />
  <bpmn:process id="take_change" isExecutable="true">
    <bpmn:startEvent id="asked"><bpmn:outgoing>f1</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="Msg_ask" /></bpmn:startEvent>
    <bpmn:userTask id="approve" name="Approve the asked change">
      <bpmn:extensionElements>
        <zeebe:assignmentDefinition candidateGroups="supervisors" />
        <zeebe:ioMapping><zeebe:input source="=True" target="four_eyes" /></zeebe:ioMapping>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="asked" targetRef="approve" />
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


async def test_an_instance_started_by_a_message_is_requested_by_the_sender_s_person(
        api: Api, worker: None, settings: Settings) -> None:
    """sam starts an instance whose message starts another: its four-eyes task was requested by sam."""
    for name, xml in (("take_change", RECEIVER), ("ask_change", THROWER)):
        deployed = await api.post("/process-definitions", "erin",
                                  files={"file": (f"{name}.bpmn", xml.encode(), "application/xml")})
        assert deployed.status_code == 201, deployed.text
    started = await api.post("/instances", "sam", json={"process_id": "ask_change",
                                                        "variables": {"order_id": "PO-MSG"}})
    assert started.status_code == 201, started.text
    await wait_for_status(api, started.json()["workflow_id"], "completed")
    deadline = asyncio.get_running_loop().time() + 30
    tasks: list[dict[str, Any]] = []
    while not tasks and asyncio.get_running_loop().time() < deadline:
        listed = await api.get("/tasks", "sue", params={"process_id": "take_change"})
        tasks = listed.json()["items"]
        await asyncio.sleep(0.2)
    assert len(tasks) == 1 and tasks[0]["requested_by"] == "sam", tasks
    body = {"data": {}}
    refused = await api.post(f"/tasks/{tasks[0]['task_id']}/complete", "sam", json=body)
    assert refused.status_code == 403 and "four eyes" in refused.json()["detail"], refused.text
    assert (await api.post(f"/tasks/{tasks[0]['task_id']}/complete", "sue", json=body)).status_code == 200
