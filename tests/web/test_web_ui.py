"""The web UI end to end in headless Chromium against the real API, Temporal and a worker:
an engineer opens approval.bpmn in the modeler, sees a lint problem on its element, fixes the
service-task type from the catalog, deploys and starts an instance; a supervisor completes the
task in the inbox (per-field errors first) and sees the instance advance on its diagram; an
operator completes a station step with a scanned lot and a measurement in tolerance.
Screenshots: test-artifacts/web/<test name>/."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import expect

from web.browsing import PASSWORD, Browsing

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"
STATION_DIAGRAM = Path(__file__).resolve().parent / "diagrams" / "station_step.bpmn"


def element(element_id: str, marker: str = "") -> str:
    """The bpmn-js shape of a diagram element (with a marker class when given)."""
    return f'g.djs-element[data-element-id="{element_id}"]{"." + marker if marker else ""}'


async def test_model_deploy_inbox_and_instance(browsing: Browsing, worker: None, tmp_path: Path) -> None:
    page = browsing.page
    await page.goto(browsing.base_url + "/")  # redirected to the UI's sign-in
    await expect(page.get_by_test_id("login")).to_be_visible()
    await browsing.shot("01-login")

    # the engineer: modeler, inbox and instances; no station
    await browsing.sign_in("erin")
    nav = page.locator("header nav a")
    await expect(nav).to_have_text(
        ["Inbox", "Orders", "Lots", "Instances", "Modeler", "Dashboards", "Equipment", "Audit"])
    await page.click("[data-nav=modeler]")
    await expect(page.get_by_test_id("modeler-status")).to_contain_text("Opened new_process.bpmn")

    # a diagram with a service-task type the catalog does not know: lint marks the element
    broken = tmp_path / "approval.bpmn"
    broken.write_text((DIAGRAMS / "approval.bpmn").read_text().replace('type="mom.log"', 'type="mom.lgo"'))
    await page.get_by_test_id("open-file").set_input_files(str(broken))
    await expect(page.get_by_test_id("modeler-status")).to_contain_text("laid out automatically")
    await page.get_by_test_id("lint").click()
    await expect(page.locator('[data-lint-for="log_request"]')).to_be_visible()
    await expect(page.locator(element("log_request", "mom-lint-error"))).to_have_count(1)
    await expect(page.get_by_test_id("lint-problems")).to_contain_text("mom.lgo")
    await browsing.shot("02-modeler-lint-error")

    # pick the type from the catalog, lint clean, deploy
    await page.locator(element("log_request")).click()
    await page.get_by_test_id("task-type").select_option("mom.log")
    await page.get_by_test_id("lint").click()
    await expect(page.get_by_test_id("modeler-status")).to_have_text("No problems found")
    await expect(page.locator('[data-lint-for="log_request"]')).to_have_count(0)
    await page.get_by_test_id("deploy").click()
    await expect(page.get_by_test_id("modeler-status")).to_have_text("Deployed approval version 1")
    await expect(page.get_by_test_id("history")).to_contain_text("v1")
    await browsing.shot("03-modeler-deployed")

    await page.get_by_test_id("start-variables").fill('{"order_id": "PO-7", "qty": 20, "new_qty": 30}')
    await page.get_by_test_id("start-business-key").fill("PO-7")
    await page.get_by_test_id("start-instance").click()
    await page.get_by_test_id("started-link").click()
    await expect(page.locator(element("approve", "mom-active"))).to_have_count(1, timeout=20_000)
    await expect(page.locator(element("log_request", "mom-done"))).to_have_count(1)
    await browsing.shot("04-instance-waiting-for-approval")

    # the supervisor: inbox, claim, a missing field is refused next to the input, then complete
    await browsing.sign_out()
    await browsing.sign_in("sam")
    await expect(nav).to_have_text(
        ["Inbox", "Station", "Orders", "Lots", "Instances", "Dashboards", "Equipment", "Audit"])
    await page.click("[data-nav=inbox]")
    row = page.locator("[data-testid=task-row]", has_text="Approve quantity change")
    await expect(row).to_be_visible(timeout=20_000)
    await row.click()
    await expect(page.get_by_test_id("task-context")).to_contain_text("PO-7")
    await page.get_by_test_id("claim").click()
    await expect(page.get_by_test_id("unclaim")).to_be_visible()
    await page.check("input[name=approved]")
    await page.get_by_test_id("complete").click()
    await expect(page.locator('[data-error-for="comment"]')).to_have_text("is required")
    await browsing.shot("05-inbox-field-error")
    await page.fill("input[name=comment]", "fine by me")
    await page.get_by_test_id("complete").click()
    await expect(page.get_by_test_id("task-done")).to_be_visible()
    await browsing.shot("06-inbox-completed")

    # the instance advanced: completed, its path highlighted
    await page.get_by_test_id("task-done").get_by_role("link").click()
    await expect(page.get_by_test_id("instance-status")).to_have_text("completed", timeout=20_000)
    for done in ("start", "log_request", "approve", "decision", "apply", "end_applied"):
        await expect(page.locator(element(done, "mom-done"))).to_have_count(1)
    await expect(page.locator(element("end_rejected", "mom-done"))).to_have_count(0)
    await expect(page.get_by_test_id("variables")).to_contain_text("30")
    await browsing.shot("07-instance-completed")

    assert browsing.foreign_requests() == []


async def test_station_step_with_scanned_lot(browsing: Browsing, worker: None) -> None:
    async with httpx.AsyncClient(base_url=browsing.base_url) as http:
        token = (await http.post("/auth/token", data={"username": "erin", "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        deployed = await http.post("/process-definitions", headers=headers,
                                   files={"file": ("station_step.bpmn", STATION_DIAGRAM.read_bytes())})
        assert deployed.status_code == 201, deployed.text
        started = await http.post("/instances", headers=headers, json={"process_id": "stage_material",
                                                                       "business_key": "JO-42"})
        assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]

    page = browsing.page
    await browsing.sign_in("otto")
    await expect(page.locator("header nav a")).to_have_text(["Station"])
    step = page.locator("[data-testid=station-step]", has_text="Stage coil at the press")
    await expect(step).to_be_visible(timeout=20_000)
    await step.click()

    # a keyboard-wedge scanner types the code and presses Enter
    await page.get_by_test_id("lot-scan").press_sequentially("LOT-2024-0042")
    await page.get_by_test_id("lot-scan").press("Enter")
    await expect(page.locator("input[name=lot]")).to_have_value("LOT-2024-0042")
    await page.fill("input[name=thickness]", "2.3")
    await expect(page.locator('[data-tolerance-for="thickness"]')).to_have_class("tolerance out")
    await page.get_by_test_id("complete").click()
    await expect(page.locator('[data-error-for="thickness"]')).not_to_be_empty()
    await browsing.shot("01-station-out-of-tolerance")
    await page.fill("input[name=thickness]", "2.02")
    await expect(page.locator('[data-tolerance-for="thickness"]')).to_have_class("tolerance in")
    await page.get_by_test_id("complete").click()
    await expect(page.get_by_test_id("step-done")).to_be_visible()
    await browsing.shot("02-station-done")

    # the operator has no instances page; the engineer sees the instance completed with the lot
    await browsing.sign_out()
    await browsing.sign_in("erin")
    await page.goto(f"{browsing.base_url}/ui/#/instances/{workflow_id}")
    await expect(page.get_by_test_id("instance-status")).to_have_text("completed", timeout=20_000)
    await expect(page.locator(element("stage", "mom-done"))).to_have_count(1)
    await expect(page.get_by_test_id("variables")).to_contain_text("LOT-2024-0042")
    await browsing.shot("03-instance-completed")
    assert browsing.foreign_requests() == []
