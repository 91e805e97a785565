"""An incident in a called instance (call activity), handled from the web UI against the real API,
Temporal and a worker: the parent's page leads to the called instance (its id holds a '/'), where the
variables are fixed and the step retried; the parent then completes.
Screenshots: test-artifacts/web/<test name>/."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from playwright.async_api import expect

from web.browsing import PASSWORD, Browsing

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"


async def test_retry_in_the_called_instance_completes_the_parent(browsing: Browsing, worker: None) -> None:
    async with httpx.AsyncClient(base_url=browsing.base_url, timeout=30) as http:
        token = (await http.post("/auth/token", data={"username": "erin", "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        for name in ("call_child.bpmn", "call_parent.bpmn"):
            deployed = await http.post("/process-definitions", headers=headers,
                                       files={"file": (name, (DIAGRAMS / name).read_bytes())})
            assert deployed.status_code == 201, deployed.text
        started = await http.post("/instances", headers=headers, json={
            "process_id": "call_parent", "variables": {"lot": "L3", "measured": 0}})  # the child divides by it
        assert started.status_code == 201, started.text
        parent = started.json()["workflow_id"]

    page = browsing.page
    await browsing.sign_in("erin")
    # the list shows the incident on both, the called instance too (started by the parent, not the API)
    await page.goto(f"{browsing.base_url}/ui/#/instances")
    await page.get_by_text("open incidents").click()
    listed = page.get_by_test_id("instances")
    await expect(listed.locator(f'tr[data-workflow-id="{parent}"]').get_by_test_id("open-incident")).to_be_visible(
        timeout=30_000)
    await expect(listed.locator(f'tr[data-workflow-id^="{parent}/"]').get_by_test_id("open-incident")).to_be_visible()
    await page.goto(f"{browsing.base_url}/ui/#/instances/{parent}")
    incident = page.get_by_test_id("incident")
    await expect(incident).to_contain_text("ZeroDivisionError", timeout=30_000)
    await expect(incident.get_by_test_id("retry")).to_have_count(0)  # not retried here
    child = incident.get_by_test_id("child-instance")
    child_id = await child.inner_text()
    assert child_id.startswith(f"{parent}/")
    await browsing.shot("01-parent")
    await child.click()

    # the called instance's own page (its id holds a '/'): its diagram, its incident, the retry
    await expect(page.get_by_test_id("instance-status")).to_have_text("incident")
    await expect(page.locator("main h2")).to_contain_text(child_id)
    await page.get_by_test_id("retry-variables").fill('{"measured": 4}')
    await page.get_by_test_id("retry").click()
    await expect(page.get_by_test_id("instance-status")).to_have_text("completed")
    await browsing.shot("02-child-retried")

    async with httpx.AsyncClient(base_url=browsing.base_url, timeout=30) as http:
        for _ in range(150):
            state = (await http.get(f"/instances/{parent}/state", headers=headers)).json()
            if state["status"] == "completed":
                break
            await asyncio.sleep(0.2)
        assert state["status"] == "completed" and state["variables"]["lot_grade"] == "A", state
        trail = (await http.get("/audit", headers=headers, params={"action": "process.retried"})).json()["items"]
        assert [e["entity_id"] for e in trail] == [child_id]
    assert browsing.foreign_requests() == []
