"""The Orders page in headless Chromium against the real API, Temporal and a worker: a supervisor
sees the orders with their job orders, requests a quantity change (process demand_change, which
reaches its approval step), starts production of a released order (process production_order)
and cancels an order not started, with reasons; an engineer reads without acting.
Screenshots: test-artifacts/web/<test name>/."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from playwright.async_api import expect

from mom.db import create_database_engine, create_session_factory
from mom.db.transactions import writing
from mom.settings import Settings
from web.browsing import PASSWORD, Browsing
from web.plant_data import history_day, seed_dashboard_plant

PROCESSES = Path(__file__).resolve().parents[2] / "bpmn" / "processes"


async def _headers(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    token = (await http.post("/auth/token", data={"username": username, "password": PASSWORD})).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


async def test_supervisor_changes_quantity_starts_and_cancels_orders(browsing: Browsing, web_settings: Settings,
                                                                     worker: None) -> None:
    engine = create_database_engine(web_settings.effective_database_url)
    with writing(create_session_factory(engine)) as session:
        seed_dashboard_plant(session, history_day())  # PO-1 in progress (Press 60 of 100), PO-2 released
    engine.dispose()
    async with httpx.AsyncClient(base_url=browsing.base_url, timeout=30) as http:
        engineer, supervisor = await _headers(http, "erin"), await _headers(http, "sam")
        for name in ("demand_change.bpmn", "production_order.bpmn"):
            deployed = await http.post("/process-definitions", headers=engineer,
                                       files={"file": (name, (PROCESSES / name).read_bytes())})
            assert deployed.status_code == 201, deployed.text
        created = await http.post("/orders", headers=supervisor,
                                  json={"order_number": "PO-3", "product_code": "BRACKET", "quantity": "25"})
        assert created.status_code == 201, created.text

    page = browsing.page
    await browsing.sign_in("sam")
    await page.click("[data-nav=orders]")
    orders = page.locator("[data-testid=orders] tbody tr")
    await expect(orders).to_have_count(3)
    await expect(page.locator('tr[data-order="PO-1"]')).to_contain_text("in progress")
    await expect(page.locator('tr[data-order="PO-2"]')).to_contain_text("released")

    # PO-1: its job orders (the press job on Press1, 60 good), then a quantity change with its reason
    await page.locator('tr[data-order="PO-1"]').click()
    detail = page.get_by_test_id("order-detail")
    press_job = detail.locator('[data-testid=job-orders] tr[data-sequence="10"]')
    await expect(press_job).to_contain_text("Press1")
    await expect(press_job).to_contain_text("running")
    await expect(press_job.locator("td").nth(6)).to_have_text("60")
    await expect(detail.get_by_test_id("order-processes")).to_contain_text("No process has run")
    await expect(detail.get_by_test_id("cancel-order")).to_have_count(0)  # in progress: not cancellable
    await expect(detail.get_by_test_id("start-production")).to_have_count(0)  # nor started again
    await detail.get_by_test_id("new-quantity").fill("120")
    await detail.get_by_test_id("request-quantity-change").click()
    await expect(detail.get_by_test_id("order-result")).to_contain_text("reason")
    await detail.get_by_test_id("reason").fill("customer call: 20 more")
    await detail.get_by_test_id("request-quantity-change").click()
    await expect(detail.get_by_test_id("order-result")).to_contain_text("waits for another supervisor's approval")
    change = detail.get_by_test_id("order-processes").locator("li", has_text="demand_change v1")
    await expect(change).to_be_visible()
    await expect(detail.get_by_test_id("change-pending")).to_be_visible()  # one change at a time
    await expect(detail.get_by_test_id("request-quantity-change")).to_have_count(0)
    await browsing.shot("01-quantity-change-requested")

    # the process took the change: it replanned and waits for the approval
    async with httpx.AsyncClient(base_url=browsing.base_url, timeout=30) as http:
        listed = (await http.get("/instances", headers=supervisor,
                                 params={"business_key_prefix": "PO-1:"})).json()["items"]
        assert len(listed) == 1 and listed[0]["process_id"] == "demand_change"
        workflow_id = listed[0]["workflow_id"]
        for _ in range(150):
            state = (await http.get(f"/instances/{workflow_id}/state", headers=supervisor)).json()
            if any(t["element_id"] == "approve" for t in state.get("user_tasks", [])):
                break
            assert not state.get("incidents"), state.get("incidents")
            await asyncio.sleep(0.2)
        else:
            raise AssertionError(f"demand_change did not reach its approval: {state}")
        assert state["variables"]["new_quantity"] == 120 and listed[0]["started_by"] == "sam"
    await change.locator("a").click()
    await expect(page.locator("main")).to_contain_text(workflow_id)  # its instance page

    # PO-2: production starts (once: the button goes), and a started order cannot be cancelled here
    await page.goto(f"{browsing.base_url}/ui/#/orders/PO-2")
    await detail.get_by_test_id("start-production").click()
    await expect(detail.get_by_test_id("order-result")).to_contain_text("Production of PO-2 started")
    await expect(detail.get_by_test_id("order-processes")).to_contain_text("production_order v1")
    await expect(detail.get_by_test_id("start-production")).to_have_count(0)
    await browsing.shot("02-production-started")
    async with httpx.AsyncClient(base_url=browsing.base_url, timeout=30) as http:  # scheduled, at the station
        for _ in range(150):
            state = (await http.get("/instances/production_order-PO-2/state", headers=supervisor)).json()
            assert not state.get("incidents"), state.get("incidents")
            if any(t["element_id"] == "stage_material" for t in state.get("user_tasks", [])):
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError(f"production of PO-2 did not reach the operator's staging step: {state}")
    await expect(detail.get_by_test_id("cancel-order")).to_have_count(0)

    # PO-3 (received): cancelled with a reason, after the confirmation
    await page.goto(f"{browsing.base_url}/ui/#/orders/PO-3")
    await detail.get_by_test_id("reason").fill("ERP cancelled the customer order")
    page.once("dialog", lambda dialog: dialog.accept())
    await detail.get_by_test_id("cancel-order").click()
    await expect(detail.get_by_test_id("order-result")).to_contain_text("Order PO-3 cancelled")
    await expect(page.locator('tr[data-order="PO-3"]')).to_contain_text("cancelled")
    await expect(detail.get_by_test_id("order-actions")).to_have_count(0)
    await browsing.shot("02-cancelled")
    await browsing.sign_out()

    # the engineer reads the orders, without acting on them
    await browsing.sign_in("erin")
    await page.goto(f"{browsing.base_url}/ui/#/orders/PO-1")
    await expect(detail.get_by_test_id("job-orders")).to_be_visible()
    await expect(detail.get_by_test_id("order-actions")).to_have_count(0)
    assert browsing.foreign_requests() == []
