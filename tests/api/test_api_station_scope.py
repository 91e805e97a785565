"""An operator's inbox (the station) lists only the steps at their work centers."""

from __future__ import annotations

from api_client import WORK_CENTER, Api
from test_api_inbox import DIAGRAMS, wait_for_task, worker  # noqa: F401 - fixture

STEP = (DIAGRAMS / "approval.bpmn").read_text().replace(
    '<zeebe:assignmentDefinition candidateGroups="supervisors" />',
    '<zeebe:assignmentDefinition candidateGroups="operators" />',
).replace(
    '<zeebe:input source="=order_id" target="order" />',
    '<zeebe:input source="=order_id" target="order" />\n'
    '          <zeebe:input source="=work_center" target="work_center" />',
).replace('id="approval"', 'id="station_step"')


async def test_operators_see_only_their_work_centers(api: Api, worker: None) -> None:  # noqa: F811
    response = await api.post("/process-definitions", "erin",
                              files={"file": ("station_step.bpmn", STEP.encode(), "application/xml")})
    assert response.status_code == 201, response.text
    ids = {}
    for center, operator in ((WORK_CENTER, "otto"), ("Acme.Lyon.Welding", "olga")):
        started = await api.post("/instances", "sam", json={"process_id": "station_step", "variables": {
            "order_id": f"PO-{center}", "qty": 1, "new_qty": 2, "work_center": center}})
        assert started.status_code == 201, started.text
        ids[center] = (await wait_for_task(api, started.json()["workflow_id"], user=operator))["task_id"]

    otto = (await api.get("/tasks", "otto", params={"process_id": "station_step"})).json()["items"]
    olga = (await api.get("/tasks", "olga", params={"process_id": "station_step"})).json()["items"]
    sam = (await api.get("/tasks", "sam", params={"process_id": "station_step", "scope": "all"})).json()["items"]
    assert [t["task_id"] for t in otto] == [ids[WORK_CENTER]]
    assert [t["task_id"] for t in olga] == [ids["Acme.Lyon.Welding"]]
    assert {t["task_id"] for t in sam} == set(ids.values())  # a supervisor sees every station
