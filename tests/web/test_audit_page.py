"""The audit trail in headless Chromium against the real API: from an order to its trail (who, when,
why), filters, and the chain verification, which names the entry an attacker with the database
owner's rights edited. Screenshots: test-artifacts/web/<test name>/."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from playwright.async_api import expect

from mom.db import create_database_engine, create_session_factory
from mom.db.transactions import writing
from mom.settings import Settings
from web.browsing import PASSWORD, Browsing
from web.plant_data import history_day, seed_dashboard_plant


async def test_an_orders_trail_and_the_chain_verification(browsing: Browsing, web_settings: Settings) -> None:
    engine = create_database_engine(web_settings.effective_database_url)
    with writing(create_session_factory(engine)) as session:
        seed_dashboard_plant(session, history_day())  # PO-2: received, then released by pytest
    async with httpx.AsyncClient(base_url=browsing.base_url, timeout=30) as http:
        token = (await http.post("/auth/token", data={"username": "sam", "password": PASSWORD})).json()
        cancelled = await http.post("/orders/PO-2/cancel", headers={"Authorization": f"Bearer {token['access_token']}"},
                                    json={"reason": "customer withdrew the order"})
        assert cancelled.status_code == 200, cancelled.text

    page = browsing.page
    await browsing.sign_in("sam")
    await page.goto(f"{browsing.base_url}/ui/#/orders/PO-2")
    await page.get_by_test_id("order-audit").click()
    await expect(page.get_by_test_id("audit-entity_id")).to_have_value("PO-2")
    rows = page.locator("[data-testid=audit] tbody tr")
    newest = rows.first
    await expect(newest).to_contain_text("production_order.status_changed")
    await expect(newest).to_contain_text("sam")
    await expect(newest.get_by_test_id("audit-reason")).to_have_text("customer withdrew the order")
    await expect(newest).to_contain_text('to: "cancelled"')
    entries = await rows.count()
    assert entries >= 3  # created, released, cancelled (and the job orders' own entries are theirs)
    seq = int(await newest.get_attribute("data-seq") or 0)
    assert all(row_actor in ("pytest", "sam") for row_actor in await rows.locator("td:nth-child(3)").all_inner_texts())

    # only what sam did
    await page.get_by_test_id("audit-actor").fill("sam")
    await page.get_by_test_id("audit-search").click()
    await expect(rows).to_have_count(1)
    # from tomorrow on: nothing yet
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    await page.get_by_test_id("audit-since").fill(tomorrow)
    await expect(rows).to_have_text(["No entries."])
    await page.get_by_test_id("audit-since").fill("")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("sam")

    await page.get_by_test_id("audit-verify").click()
    await expect(page.get_by_test_id("audit-chain")).to_contain_text("Chain intact")
    await browsing.shot("01-trail")

    # someone with the database owner's rights drops the guard and rewrites the reason
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_entries_no_update")
        connection.exec_driver_sql(f"UPDATE audit_entries SET reason = 'routine' WHERE seq = {seq}")
    engine.dispose()
    await page.get_by_test_id("audit-search").click()
    await expect(rows.first.get_by_test_id("audit-reason")).to_have_text("routine")
    await page.get_by_test_id("audit-verify").click()
    await expect(page.get_by_test_id("audit-chain")).to_contain_text(f"Chain broken at entry {seq}")
    await browsing.shot("02-broken")
    assert browsing.foreign_requests() == []
