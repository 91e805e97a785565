"""The inbox shows an approval task's context as readable sections, in headless Chromium against the
real API, Temporal and a worker: the engineering_change approval (orders with their current step
and proposal, the WIP lot, the press with its live PackML state, the recipe change, the run time
each order gains) and the demand_change approval (the orders sharing the work centers, the machines
in their state, the schedule before and after the replan against the due time).
Screenshots: test-artifacts/web/<test name>/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from playwright.async_api import expect

from mom.db import create_database_engine, create_session_factory, execution
from mom.db.equipment import get_equipment_by_path
from mom.db.events import record_machine_event
from mom.db.orders import create_production_order, get_production_order_by_number
from mom.db.transactions import writing
from mom.domain import MachineEventKind
from mom.plant_setup import PRODUCT, create_demo_plant, revision_b
from mom.settings import Settings
from web.browsing import PASSWORD, Browsing

PROCESSES = Path(__file__).resolve().parents[2] / "bpmn" / "processes"




def seed(settings: Settings) -> str:
    """The demo plant, the press running and the coater held by a jam; orders for both changes.
    Returns the area path (for the revision's work centers)."""
    engine = create_database_engine(settings.effective_database_url)
    with writing(create_session_factory(engine)) as session:
        plant = create_demo_plant(session, site="Lyon", endpoints={"Press1": "opc.tcp://127.0.0.1:1",
                                                                   "Coater1": "opc.tcp://127.0.0.1:2"})
        press = get_equipment_by_path(session, path=plant.work_units["Press1"])
        coater = get_equipment_by_path(session, path=plant.work_units["Coater1"])
        now = datetime.now(UTC) - timedelta(minutes=2)
        record_machine_event(session, work_unit_id=press.id, kind=MachineEventKind.STATE, name="Execute", at=now)
        record_machine_event(session, work_unit_id=coater.id, kind=MachineEventKind.STATE, name="Held", at=now)
        record_machine_event(session, work_unit_id=coater.id, kind=MachineEventKind.ALARM, name="JAM", at=now,
                             severity=700, value={"active": True})
        for number, quantity in (("PO-E1", 4), ("PO-E2", 4), ("PO-D1", 100), ("PO-D2", 100)):
            create_production_order(session, order_number=number, product_code=PRODUCT, quantity=quantity,
                                    actor="erp")
            if number != "PO-E1":  # PO-E1 stays created (not started): the ECO proposes to migrate it
                execution.release_order(session, order_number=number, actor="erp")
                execution.dispatch_order(session, order_number=number, actor="planner")
        # PO-E2 was pressed under revision A: its blank lot is work in progress
        execution.record_job_result(session, order_number="PO-E2", sequence=10, staged=[], good=4, bad=0,
                                    performed_by="op")
        get_production_order_by_number(session, order_number="PO-D1").due_at = datetime.now(UTC) + timedelta(
            seconds=40)
        area = plant.work_units["Press1"].rsplit(".", 2)[0]
    engine.dispose()
    return area


async def start_changes(base_url: str, area: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        token = (await http.post("/auth/token", data={"username": "erin", "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        for name in ("engineering_change", "demand_change"):
            deployed = await http.post("/process-definitions", headers=headers,
                                       files={"file": (f"{name}.bpmn", (PROCESSES / f"{name}.bpmn").read_bytes())})
            assert deployed.status_code == 201, deployed.text
        for body in ({"process_id": "engineering_change", "business_key": "ECO-7", "variables": {
                          "eco_number": "ECO-7", "product_code": PRODUCT,
                          "revision": revision_b(area, press_run_time_s=0.08)}},
                     {"process_id": "demand_change", "business_key": "PO-D1-qty", "variables": {
                          "order_number": "PO-D1", "new_quantity": 200}}):
            started = await http.post("/instances", headers=headers, json=body)
            assert started.status_code == 201, started.text


async def test_approval_tasks_show_orders_lots_machines_and_schedule_impact(
        browsing: Browsing, worker: None, web_settings: Settings) -> None:
    area = seed(web_settings)
    await start_changes(browsing.base_url, area)
    page = browsing.page
    await browsing.sign_in("sam")
    await page.click("[data-nav=inbox]")

    # engineering change: orders with their step and proposal, the WIP lot, the press, the recipe
    row = page.locator("[data-testid=task-row]", has_text="Approve the engineering change")
    await expect(row).to_be_visible(timeout=30_000)
    await row.click()
    context = page.get_by_test_id("task-context")
    await expect(context.get_by_test_id("context-summary")).to_contain_text("ECO-7")
    await expect(context.get_by_test_id("context-summary")).to_contain_text("A → B")
    orders = context.get_by_test_id("context-orders")
    await expect(orders.locator("tbody tr")).to_have_count(4)  # the demand change's orders are on A too
    await expect(orders.locator('tr[data-order="PO-E1"] [data-col=proposed]')).to_have_text("migrate")
    await expect(orders.locator('tr[data-order="PO-E2"] [data-col=proposed]')).to_have_text("rework")
    await expect(orders.locator('tr[data-order="PO-E2"] [data-col=step]')).to_contain_text("20 Coat")
    lots = context.get_by_test_id("context-lots")
    await expect(lots.locator('tr[data-lot="PO-E2-10"]')).to_contain_text("PO-E2")
    machines = context.get_by_test_id("context-machines")
    press = machines.locator("tr[data-work-unit$='.Press1']")
    await expect(press).to_have_attribute("data-state", "Execute")
    await expect(press.locator("[data-col=state]")).to_have_text("Execute")
    await expect(context.get_by_test_id("context-recipes")).to_contain_text("R-PRESS-2MM-B")
    schedule = context.get_by_test_id("context-schedule")
    await expect(schedule.get_by_test_id("schedule-gantt")).to_be_visible()
    longer = schedule.locator('[data-testid=schedule-row][data-job-order="PO-E1"] rect.after.later')
    await expect(longer).to_have_attribute("data-delta", "0.12")  # 4 pieces x 0.03 s more per press
    await expect(context.get_by_test_id("context-other")).to_have_count(0)  # everything has its section
    await browsing.shot("01-engineering-change-context")

    # demand change: the orders sharing the work centers, machines in their state, before/after bars
    row = page.locator("[data-testid=task-row]", has_text="Approve the demand change")
    await expect(row).to_be_visible(timeout=30_000)
    await row.click()
    await expect(page.get_by_test_id("task-view")).to_contain_text("Approve the demand change")
    context = page.get_by_test_id("task-context")
    await expect(context.get_by_test_id("context-summary")).to_contain_text("PO-D1")
    await expect(context.get_by_test_id("context-feasible")).to_be_visible()
    orders = context.get_by_test_id("context-orders")
    await expect(orders.locator('tr[data-order="PO-D1"] [data-col=quantity]')).to_have_text("100 → 200")
    await expect(orders.locator('tr[data-order="PO-D2"]')).to_be_visible()
    machines = context.get_by_test_id("context-machines")
    await expect(machines.locator("tr[data-work-unit$='.Press1']")).to_have_attribute("data-state", "Execute")
    coater = machines.locator("tr[data-work-unit$='.Coater1'] [data-col=state]")
    await expect(coater).to_have_text("Held ⚠ JAM")
    schedule = context.get_by_test_id("context-schedule")
    changed = schedule.locator('[data-testid=schedule-row][data-job-order="PO-D1"]')
    await expect(changed).to_have_count(2)  # press and coat of the changed order
    await expect(changed.locator("rect.before")).to_have_count(2)
    await expect(changed.locator("rect.after")).to_have_count(2)
    await expect(schedule.get_by_test_id("due-line")).to_have_count(1)
    await expect(schedule.get_by_test_id("finish-shift")).to_contain_text("+")
    press_before = changed.first.locator("rect.before")
    press_after = changed.first.locator("rect.after")
    before_end = float(await press_before.get_attribute("data-end") or 0)
    after_end = float(await press_after.get_attribute("data-end") or 0)
    assert after_end > before_end  # 200 pieces take longer than 100
    await browsing.shot("02-demand-change-context")
    assert browsing.foreign_requests() == []
