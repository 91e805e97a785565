"""A completion carries only the form's fields (issue J.4), and the loser of a completion race is told
so (J.12): over HTTP against a real workflow, and straight to the workflow's update (its validator is
the one store of truth, reachable without the API)."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from api_client import Api
from temporalio.client import Client
from test_api_inbox import DIAGRAMS, deploy, wait_for_status, wait_for_task, worker  # noqa: F401 - fixture

from mom import instances
from mom.settings import Settings

FOR_OPERATORS = (DIAGRAMS / "approval.bpmn").read_text().replace(
    'candidateGroups="supervisors"', 'candidateGroups="operators"').replace('id="approval"', 'id="operator_step"')
NO_FORM = (DIAGRAMS / "approval.bpmn").read_text().replace(
    '<zeebe:formDefinition formKey="camunda-forms:bpmn:ApproveForm" />', "").replace(
    'id="approval"', 'id="confirm_only"')


async def start_approval(api: Api, order: str) -> str:
    order = f"{order}-{secrets.token_hex(3)}"  # one Temporal server for every test: ids not reused
    started = await api.post("/instances", "sam", json={"process_id": "approval", "business_key": order,
                                                        "variables": {"order_id": order, "qty": 20, "new_qty": 30}})
    assert started.status_code == 201, started.text
    return str(started.json()["workflow_id"])


async def test_fields_the_form_does_not_have_are_refused_by_name(api: Api, worker: None,  # noqa: F811
                                                                 temporal_client: Client, settings: Settings) -> None:
    await deploy(api, "approval.bpmn")
    workflow_id = await start_approval(api, "PO-J4")
    task_id = (await wait_for_task(api, workflow_id))["task_id"]
    before = (await api.get(f"/instances/{workflow_id}/state", "sam")).json()["variables"]

    # the reproduction: approved plus two process variables the form does not have
    refused = await api.post(f"/tasks/{task_id}/complete", "sam",
                             json={"data": {"approved": True, "qty": 999999, "new_qty": -1}})
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert set(detail["errors"]) == {"qty", "new_qty"}
    assert "qty" in detail["message"] and "new_qty" in detail["message"]
    state = (await api.get(f"/instances/{workflow_id}/state", "sam")).json()
    assert state["status"] == "running" and state["variables"] == before

    # the workflow's own validator refuses the same, for a client that reaches Temporal directly (even
    # one holding the key that proves completions)
    with pytest.raises(instances.TaskRefused) as direct:
        await instances.complete_user_task(temporal_client, workflow_id, task_id,
                                           {"approved": True, "comment": "ok", "new_qty": -1}, user="sam",
                                           proof_key=settings.update_proof_key)
    assert direct.value.kind == "FormInvalid" and set(direct.value.errors) == {"new_qty"}
    assert (await api.get(f"/instances/{workflow_id}/state", "sam")).json()["variables"] == before

    done = await api.post(f"/tasks/{task_id}/complete", "sam", json={"data": {"approved": True, "comment": "ok"}})
    assert done.status_code == 200, done.text
    final = await wait_for_status(api, workflow_id, "completed")
    assert final["variables"]["qty"] == 30 and final["variables"]["new_qty"] == 30


async def test_a_task_without_a_form_takes_no_data(api: Api, worker: None,  # noqa: F811
                                                   temporal_client: Client, settings: Settings) -> None:
    response = await api.post("/process-definitions", "erin",
                              files={"file": ("confirm_only.bpmn", NO_FORM.encode(), "application/xml")})
    assert response.status_code == 201, response.text
    started = await api.post("/instances", "sam", json={"process_id": "confirm_only",
                                                        "variables": {"order_id": "PO-C", "qty": 1, "new_qty": 2,
                                                                      "approved": False}})
    assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]
    task_id = (await wait_for_task(api, workflow_id))["task_id"]

    refused = await api.post(f"/tasks/{task_id}/complete", "sam", json={"data": {"approved": True, "qty": 5}})
    assert refused.status_code == 422, refused.text
    assert set(refused.json()["detail"]["errors"]) == {"approved", "qty"}
    assert "no form" in refused.json()["detail"]["message"]
    with pytest.raises(instances.TaskRefused) as direct:
        await instances.complete_user_task(temporal_client, workflow_id, task_id, {"qty": 5}, user="sam",
                                           proof_key=settings.update_proof_key)
    assert direct.value.kind == "FormInvalid" and set(direct.value.errors) == {"qty"}

    confirmed = await api.post(f"/tasks/{task_id}/complete", "sam", json={"data": {}})
    assert confirmed.status_code == 200, confirmed.text
    final = await wait_for_status(api, workflow_id, "completed")
    assert final["variables"]["qty"] == 1  # nothing the click could change


async def test_the_loser_of_a_completion_race_gets_409_naming_the_winner(api: Api, worker: None) -> None:  # noqa: F811
    await deploy(api, "approval.bpmn")
    workflow_id = await start_approval(api, "PO-RACE")
    task_id = (await wait_for_task(api, workflow_id))["task_id"]
    sam_data = {"approved": True, "comment": "sam says yes"}
    sue_data = {"approved": False, "comment": "sue says no"}
    await api.token("sam"), await api.token("sue")  # signed in already: both clicks leave at once
    sam, sue = await asyncio.gather(api.post(f"/tasks/{task_id}/complete", "sam", json={"data": sam_data}),
                                    api.post(f"/tasks/{task_id}/complete", "sue", json={"data": sue_data}))
    assert sorted([sam.status_code, sue.status_code]) == [200, 409], (sam.text, sue.text)
    winner, loser, loser_name = (sam, sue, "sue") if sam.status_code == 200 else (sue, sam, "sam")
    assert winner.json()["completed_by"] != loser_name
    assert task_id in loser.json()["detail"] and f"completed by {winner.json()['completed_by']}" in \
        loser.json()["detail"]


async def test_an_operator_who_loses_the_race_gets_409_too(api: Api, worker: None) -> None:  # noqa: F811
    """otto and olga (operators at other work centers) race for a step at no work center: once it is
    olga's, otto no longer sees it, and is still told he lost the race (not 403)."""
    response = await api.post("/process-definitions", "erin",
                              files={"file": ("operator_step.bpmn", FOR_OPERATORS.encode(), "application/xml")})
    assert response.status_code in (200, 201), response.text
    started = await api.post("/instances", "sam", json={"process_id": "operator_step", "variables": {
        "order_id": f"PO-OP-{secrets.token_hex(3)}", "qty": 1, "new_qty": 2}})
    assert started.status_code == 201, started.text
    task_id = (await wait_for_task(api, started.json()["workflow_id"], user="otto"))["task_id"]
    await api.token("otto"), await api.token("olga")
    otto, olga = await asyncio.gather(
        api.post(f"/tasks/{task_id}/complete", "otto", json={"data": {"approved": True, "comment": "otto"}}),
        api.post(f"/tasks/{task_id}/complete", "olga", json={"data": {"approved": False, "comment": "olga"}}))
    assert sorted([otto.status_code, olga.status_code]) == [200, 409], (otto.text, olga.text)
    loser = otto if otto.status_code == 409 else olga
    assert task_id in loser.json()["detail"] and "already completed" in loser.json()["detail"]
