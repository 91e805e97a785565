"""The Lots page in headless Chromium against the real API: a lot's genealogy both ways (what went in,
what was made from it, with operation, machine and person), navigation along it, and a supervisor's
recall hold of a suspect sheet lot with everything made from it. Screenshots:
test-artifacts/web/<test name>/."""

from __future__ import annotations

from playwright.async_api import expect

from mom.db import create_database_engine, create_session_factory
from mom.db.equipment import get_equipment_by_path
from mom.db.materials import consume_lot, create_lot, get_lot_by_number
from mom.db.transactions import writing
from mom.plant_setup import create_demo_plant
from mom.settings import Settings
from web.browsing import Browsing


def seed_genealogy(settings: Settings) -> None:
    """SHEET-001 (500 kg) -> blanks BL-1 (all used) and BL-2 (in stock); BL-1 + PAINT-001 -> BR-1."""
    engine = create_database_engine(settings.effective_database_url)
    with writing(create_session_factory(engine)) as session:
        plant = create_demo_plant(session, site="Lyon", endpoints={"Press1": "opc.tcp://127.0.0.1:1",
                                                                   "Coater1": "opc.tcp://127.0.0.1:2"})
        press = get_equipment_by_path(session, path=plant.work_units["Press1"]).id
        coater = get_equipment_by_path(session, path=plant.work_units["Coater1"]).id
        lots = {number: create_lot(session, lot_number=number, material_code=material, quantity=quantity).id
                for number, material, quantity in (("BL-1", "BRACKET-BLANK", 40), ("BL-2", "BRACKET-BLANK", 10),
                                                   ("BR-1", "BRACKET", 40))}
        sheet = get_lot_by_number(session, lot_number="SHEET-001").id
        paint = get_lot_by_number(session, lot_number="PAINT-001").id
        consume_lot(session, consumed_lot_id=sheet, produced_lot_id=lots["BL-1"], quantity=20,
                    performed_by="otto", operation="Press", work_unit_id=press)
        consume_lot(session, consumed_lot_id=sheet, produced_lot_id=lots["BL-2"], quantity=5,
                    performed_by="otto", operation="Press", work_unit_id=press)
        consume_lot(session, consumed_lot_id=lots["BL-1"], produced_lot_id=lots["BR-1"], quantity=40,
                    performed_by="olga", operation="Coat", work_unit_id=coater)
        consume_lot(session, consumed_lot_id=paint, produced_lot_id=lots["BR-1"], quantity="0.8",
                    performed_by="olga", operation="Coat", work_unit_id=coater)
    engine.dispose()


async def test_genealogy_both_ways_and_a_recall_hold(browsing: Browsing, web_settings: Settings) -> None:
    seed_genealogy(web_settings)
    page = browsing.page
    await browsing.sign_in("sam")
    await page.click("[data-nav=lots]")
    await expect(page.locator('tr[data-lot="SHEET-002"]')).to_contain_text("on hold")

    # a lot scanned into the search field: what went into the bracket, two levels down
    await page.get_by_test_id("lot-search").fill("BR-1")
    await page.get_by_test_id("lot-search").press("Enter")
    detail = page.get_by_test_id("lot-detail")
    backward = detail.locator("[data-testid=trace-backward] tbody tr")
    await expect(backward).to_have_count(3)
    await expect(backward.nth(0)).to_contain_text("Coater1")
    await expect(backward.nth(0)).to_contain_text("olga")
    await expect(detail.locator('[data-testid=trace-backward] tr[data-depth="2"]')).to_contain_text("SHEET-001")
    await expect(detail.get_by_test_id("trace-forward")).to_contain_text("Nothing made from it")
    await browsing.shot("01-backward")

    # along the genealogy to the sheet: what was made from it (the recall scope)
    await detail.locator('[data-testid=trace-backward] tr[data-depth="2"] a', has_text="SHEET-001").click()
    forward = detail.locator("[data-testid=trace-forward] tbody tr")
    await expect(forward).to_have_count(3)  # BL-1, BL-2, then BR-1
    await expect(forward.nth(0)).to_contain_text("Press1")

    # the supplier recalls the sheet: hold it and all made from it that is still in stock
    await detail.get_by_test_id("recall-hold").click()
    await expect(detail.get_by_test_id("lot-result")).to_contain_text("reason")
    await detail.get_by_test_id("lot-reason").fill("supplier recalls coil 4711")
    page.once("dialog", lambda dialog: dialog.accept())
    await detail.get_by_test_id("recall-hold").click()
    result = detail.get_by_test_id("lot-result")
    await expect(result).to_contain_text("Put on hold: SHEET-001, BL-2, BR-1.")
    await expect(result).to_contain_text("Not held: BL-1 consumed")
    await expect(page.locator('tr[data-lot="BR-1"]')).to_contain_text("on hold")
    await expect(page.locator('tr[data-lot="PAINT-001"]')).to_contain_text("available")
    await browsing.shot("02-recall-hold")

    # released again, with its reason, and the trail says why
    await page.goto(f"{browsing.base_url}/ui/#/lots/BL-2")
    await detail.get_by_test_id("lot-reason").fill("coil 4711 not in this blank: checked")
    await detail.get_by_test_id("release-lot").click()
    await expect(detail.get_by_test_id("lot-result")).to_contain_text("BL-2 is available again")
    await detail.get_by_test_id("lot-audit").click()
    reasons = page.locator("[data-testid=audit] [data-testid=audit-reason]")
    await expect(reasons).to_have_text(["coil 4711 not in this blank: checked",
                                        "recall of SHEET-001: supplier recalls coil 4711"])
    assert browsing.foreign_requests() == []
