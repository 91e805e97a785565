"""The pages added for supervisors and engineers, in headless Chromium against the real API,
Temporal and a worker: the dashboards (machine tiles by PackML state, OEE bars per shift checked
against hand-computed figures, the Gantt chart of the open job orders, orders in progress); the
modeler's test run on the running stack and the diff of two deployed versions; an instance with
an incident retried from its page, and its history. Screenshots: test-artifacts/web/<test name>/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
from playwright.async_api import expect

from mom.db import create_database_engine, create_session_factory
from mom.db.equipment import get_equipment_by_path
from mom.db.events import record_machine_event
from mom.db.transactions import writing
from mom.domain import MachineEventKind
from mom.settings import Settings
from web.browsing import PASSWORD, Browsing
from web.plant_data import history_day, seed_dashboard_plant

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"


def element(element_id: str, marker: str = "", within: str = "") -> str:
    return f'{within} g.djs-element[data-element-id="{element_id}"]{"." + marker if marker else ""}'.strip()


async def engineer_headers(http: httpx.AsyncClient) -> dict[str, str]:
    token = (await http.post("/auth/token", data={"username": "erin", "password": PASSWORD})).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


async def test_dashboards(browsing: Browsing, web_settings: Settings) -> None:
    engine = create_database_engine(web_settings.effective_database_url)
    day = history_day()
    with writing(create_session_factory(engine)) as session:
        seed_dashboard_plant(session, day)
    engine.dispose()

    page = browsing.page
    await browsing.sign_in("sam")
    await page.click("[data-nav=dashboards]")

    # machine states live: one tile per work unit, coloured by its PackML state, the alarm shown
    press = page.locator('[data-testid=machine-tile][data-work-unit$=".Press1"]')
    coater = page.locator('[data-testid=machine-tile][data-work-unit$=".Coater1"]')
    await expect(press).to_have_attribute("data-state", "Execute")
    await expect(press).to_have_class("tile execute")
    await expect(coater).to_have_class("tile held alarm")
    await expect(coater.get_by_test_id("tile-alarm")).to_have_text("⚠ JAM")

    # OEE of yesterday's shifts, as bars with the hand-computed figures (see plant_data.py)
    await page.get_by_test_id("oee-date").fill(day.isoformat())
    chart = page.get_by_test_id("oee-chart")
    await expect(chart.locator('[data-measure="Press1:early:availability"] title')).to_have_text("Availability 75.0 %")
    await expect(chart.locator('[data-measure="Press1:early:effectiveness"] title')).to_have_text("Performance 83.3 %")
    await expect(chart.locator('[data-measure="Press1:early:quality_ratio"] title')).to_have_text("Quality 95.0 %")
    await expect(chart.locator('[data-measure="Press1:early:oee"] title')).to_have_text("OEE 59.4 %")
    await expect(chart.locator('[data-measure="Press1:late:oee"] title')).to_have_text("OEE 17.4 %")

    # the open job orders planned now: four operations on two work units
    gantt = page.get_by_test_id("gantt")
    await expect(gantt.locator("g.bar")).to_have_count(4)
    await expect(gantt.locator('g.bar[data-job-order="PO-1"]')).to_have_count(2)
    await expect(page.get_by_test_id("gantt-info")).to_contain_text("4 operations")

    # orders in progress: PO-1 is 30 % done (Press 60 of 100, Coat not started), PO-2 not started
    po1 = page.locator('[data-testid=order-progress][data-order="PO-1"]')
    await expect(po1.locator(".pct")).to_have_text("30 %")
    await expect(po1.locator(".job")).to_have_count(2)
    await expect(page.locator('[data-testid=order-progress][data-order="PO-2"] .pct')).to_have_text("0 %")
    await browsing.shot("01-dashboards")

    # live: a new state event turns the tile within a few seconds, without reloading
    engine = create_database_engine(web_settings.effective_database_url)
    with writing(create_session_factory(engine)) as session:
        press_id = get_equipment_by_path(session, path=await press.get_attribute("data-work-unit") or "").id
        record_machine_event(session, work_unit_id=press_id, kind=MachineEventKind.STATE, name="Stopped",
                             at=datetime.now(UTC))
    engine.dispose()
    await expect(press).to_have_class("tile stopped", timeout=10_000)
    await expect(press).to_contain_text("Stopped")

    # the operator has no dashboards, and the API refuses them the data
    async with httpx.AsyncClient(base_url=browsing.base_url) as http:
        token = (await http.post("/auth/token", data={"username": "otto", "password": PASSWORD})).json()
        refused = await http.get("/dashboards/machine-states",
                                 headers={"Authorization": f"Bearer {token['access_token']}"})
        assert refused.status_code == 403
    assert browsing.foreign_requests() == []


async def test_modeler_test_run_and_version_diff(browsing: Browsing, worker: None) -> None:
    source = (DIAGRAMS / "approval.bpmn").read_text()
    changed = (source.replace('name="Approve quantity change"', 'name="Approve the quantity change"')
               .replace("=approved == True", "=approved == True and qty &lt; 1000"))
    async with httpx.AsyncClient(base_url=browsing.base_url) as http:
        headers = await engineer_headers(http)
        for text in (source, changed):
            deployed = await http.post("/process-definitions", headers=headers,
                                       files={"file": ("approval.bpmn", text.encode())})
            assert deployed.status_code == 201, deployed.text

    page = browsing.page
    await browsing.sign_in("erin")
    await page.click("[data-nav=modeler]")
    await page.get_by_test_id("deployed").select_option("approval@2")
    await expect(page.get_by_test_id("modeler-status")).to_contain_text("Opened approval version 2")

    # test run on the running stack: the user task completed with the given form data
    await page.get_by_test_id("test-run").click()
    await page.get_by_test_id("trial-variables").fill('{"order_id": "PO-7", "qty": 20, "new_qty": 30}')
    await page.get_by_test_id("trial-user-tasks").fill('{"approve": {"approved": true, "comment": "ok"}}')
    await page.get_by_test_id("trial-run").click()
    await expect(page.get_by_test_id("trial-status")).to_contain_text("completed", timeout=30_000)
    await expect(page.get_by_test_id("trial-status")).to_contain_text("approval__trial v1")
    await expect(page.get_by_test_id("trial-completed")).to_contain_text("approve")
    canvas = "[data-testid=modeler-canvas]"
    for element_id in ("start", "log_request", "approve", "apply", "end_applied"):
        await expect(page.locator(element(element_id, "mom-done", canvas))).to_have_count(1)
    await expect(page.locator(element("end_rejected", "mom-done", canvas))).to_have_count(0)
    await expect(page.get_by_test_id("trial-variables-out")).to_contain_text("30")
    await browsing.shot("01-modeler-test-run")

    # a test run that fails shows the incident on its element
    await page.get_by_test_id("trial-variables").fill('{"order_id": "PO-8", "qty": 20}')
    await page.get_by_test_id("trial-run").click()
    await expect(page.get_by_test_id("trial-status")).to_contain_text("incident", timeout=30_000)
    await expect(page.locator(element("apply", "mom-incident", canvas))).to_have_count(1)
    await expect(page.get_by_test_id("trial-incident")).to_contain_text("apply")
    await browsing.shot("02-modeler-test-run-incident")

    # a diagram that does not compile is answered with its problems; only engineers may test-run
    async with httpx.AsyncClient(base_url=browsing.base_url) as http:
        invalid = await http.post("/lint/test-run", headers=headers, json={"xml": source.replace('type="mom.log"',
                                                                                                  'type="mom.lgo"')})
        assert invalid.status_code == 200 and invalid.json()["status"] == "invalid", invalid.text
        assert "mom.lgo" in " ".join(invalid.json()["problems"])
        token = (await http.post("/auth/token", data={"username": "sam", "password": PASSWORD})).json()
        refused = await http.post("/lint/test-run", json={"xml": source},
                                  headers={"Authorization": f"Bearer {token['access_token']}"})
        assert refused.status_code == 403

    # the real process has no new version; the two versions compared side by side
    await expect(page.get_by_test_id("history")).not_to_contain_text("v3")
    await page.get_by_test_id("compare").click()
    diff = page.get_by_test_id("version-diff")
    approve = diff.locator('[data-testid=diff-change][data-element-id="approve"]')
    await expect(approve).to_have_attribute("data-kind", "changed")
    await expect(approve).to_contain_text("name: Approve quantity change → Approve the quantity change")
    condition = diff.locator('[data-testid=diff-change][data-element-id="f_ok"]')
    await expect(condition).to_have_attribute("data-kind", "changed")
    await expect(condition).to_contain_text("conditionExpression: =approved == True → =approved == True and qty < 1000")
    await expect(diff.get_by_test_id("diff-change")).to_have_count(2)
    for side in ("diff-old", "diff-new"):
        await expect(diff.get_by_test_id(side).locator(element("approve", "mom-diff-changed"))).to_have_count(1)
        await expect(diff.get_by_test_id(side).locator(element("log_request", "mom-diff-changed"))).to_have_count(0)
    await browsing.shot("03-modeler-version-diff")
    assert browsing.foreign_requests() == []


async def test_instance_incident_retry_and_history(browsing: Browsing, worker: None) -> None:
    async with httpx.AsyncClient(base_url=browsing.base_url) as http:
        headers = await engineer_headers(http)
        deployed = await http.post("/process-definitions", headers=headers,
                                   files={"file": ("incident.bpmn", (DIAGRAMS / "incident.bpmn").read_bytes())})
        assert deployed.status_code == 201, deployed.text
        started = await http.post("/instances", headers=headers, json={
            "process_id": "incident", "business_key": "LOT-9", "variables": {"good": 0, "bad": 0, "settle_seconds": 0}})
        assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]

    page = browsing.page
    await browsing.sign_in("sam")
    await page.goto(f"{browsing.base_url}/ui/#/instances/{workflow_id}")
    await expect(page.locator(element("scrap_rate", "mom-incident"))).to_have_count(1, timeout=20_000)
    await expect(page.get_by_test_id("incident")).to_contain_text("scrap_rate")
    await expect(page.get_by_test_id("history-completed")).to_contain_text("start")
    await expect(page.get_by_test_id("history-events").locator("tr.incident")).to_contain_text("scrap_rate")
    await browsing.shot("01-instance-incident")

    await page.get_by_test_id("retry-variables").fill('{"good": 9, "bad": 1}')
    await page.get_by_test_id("retry").click()
    await expect(page.get_by_test_id("instance-status")).to_have_text("completed", timeout=20_000)
    await expect(page.get_by_test_id("variables")).to_contain_text("0.1")
    completed = page.get_by_test_id("history-completed").locator("li > span")
    await expect(completed).to_have_text(["start", "Compute scrap rate (scrap_rate)", "Let it settle (settle)", "end"])
    # service tasks, start and end get their times from the Temporal history
    for timed in ("start", "settle", "end"):
        at = page.locator(f'[data-testid=history-completed] li[data-element-id="{timed}"] small')
        await expect(at).to_have_count(1)
    events = page.get_by_test_id("history-events")
    await expect(events).to_contain_text("instance started")
    await expect(events.locator("tr.activity")).to_contain_text("Let it settle (settle) · mom.wait")
    await expect(events.locator("tr.retry")).to_contain_text("by sam")
    await expect(events.locator("tr.ended")).to_contain_text("completed")
    await browsing.shot("02-instance-retried-history")
    assert browsing.foreign_requests() == []
