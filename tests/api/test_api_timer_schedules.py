"""Deploying through the API creates the Temporal schedule of a timer start event."""

from __future__ import annotations

from api_client import Api
from temporalio.client import Client
from test_api_inbox import DIAGRAMS, worker  # noqa: F401 - fixture

# its own process id: schedules are per namespace, shared with the engine tests of timer_start_cycle
XML = (DIAGRAMS / "timer_start_cycle.bpmn").read_text().replace('id="timer_start_cycle"', 'id="timer_start_api"')


async def test_deploy_creates_the_schedule(api: Api, worker: None, temporal_client: Client) -> None:  # noqa: F811
    response = await api.post("/process-definitions", "erin",
                              files={"file": ("timer_start_api.bpmn", XML.encode(), "application/xml")})
    assert response.status_code == 201, response.text
    body = response.json()
    try:
        assert body["process_id"] == "timer_start_api"
        assert body["schedules"] and all(s.startswith("mom-start:timer_start_api:") for s in body["schedules"])
        described = await temporal_client.get_schedule_handle(body["schedules"][0]).describe()
        assert described.id == body["schedules"][0]
        again = await api.post("/process-definitions", "erin",
                               files={"file": ("timer_start_api.bpmn", XML.encode(), "application/xml")})
        assert again.status_code == 200 and again.json()["schedules"] == []  # nothing new, nothing synced
    finally:
        for schedule in body["schedules"]:
            await temporal_client.get_schedule_handle(schedule).delete()
