"""The Equipment page in headless Chromium against the real API: a maintenance engineer builds the
hierarchy down to a new work unit, says where its OPC UA server is and binds its state node; wrong
input is refused naming the field; a supervisor reads without editing.
Screenshots: test-artifacts/web/<test name>/."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from web.browsing import PASSWORD, Browsing


async def test_commissioning_a_work_unit(browsing: Browsing) -> None:
    page = browsing.page
    await browsing.sign_in("erin")
    await page.click("[data-nav=equipment]")
    await expect(page.get_by_test_id("equipment-tree")).to_contain_text("No equipment yet")

    # enterprise > site > area > work center > work unit, each added under the one chosen
    for name in ("Acme", "Lyon", "Fabrication", "PressLine", "Press2"):
        form = page.get_by_test_id("add-equipment")
        await form.get_by_test_id("new-equipment-name").fill(name)
        if name == "Lyon":
            await form.locator("input[name=time_zone]").fill("Europe/Paris")
        await form.locator("button[type=submit]").click()
        await expect(page.get_by_test_id("equipment-detail").locator("h2")).to_contain_text(name)
    await expect(page.get_by_test_id("equipment-path")).to_have_text("Acme.Lyon.Fabrication.PressLine.Press2")
    press = page.locator('[data-testid=equipment-tree] a[data-path="Acme.Lyon.Fabrication.PressLine.Press2"]')
    await expect(press).to_contain_text("not connected")
    # a name with a '.' would break the paths: refused, naming the field
    await page.locator('[data-testid=equipment-tree] a[data-path="Acme.Lyon.Fabrication.PressLine"]').click()
    await page.get_by_test_id("new-equipment-name").fill("Press.3")
    await page.get_by_test_id("add-equipment").locator("button[type=submit]").click()
    await expect(page.get_by_test_id("equipment-result")).to_contain_text("name:")
    await press.click()

    # the endpoint: an http URL is refused at the field, then the right one is saved
    await page.get_by_test_id("endpoint-url").fill("http://10.0.4.21:4840")
    await page.get_by_test_id("endpoint-form").locator("button[type=submit]").click()
    await expect(page.get_by_test_id("endpoint-result")).to_contain_text("url:")
    await page.get_by_test_id("endpoint-url").fill("opc.tcp://10.0.4.21:4840/")
    await page.get_by_test_id("endpoint-namespace_uri").fill("urn:vendor:press")
    await page.locator("select[name=security_policy]").select_option("Basic256Sha256")
    await page.locator("select[name=security_mode]").select_option("SignAndEncrypt")
    await page.get_by_test_id("endpoint-form").locator("button[type=submit]").click()
    await expect(page.get_by_test_id("endpoint-result")).to_contain_text("Endpoint saved")
    await expect(press).not_to_contain_text("not connected")

    # node bindings: a role that is not a name is refused; the state node is bound
    await page.get_by_test_id("binding-role").fill("1 state")
    await page.get_by_test_id("binding-node").fill("nsu=urn:vendor:press;s=Press2.State")
    await page.get_by_test_id("binding-form").locator("button[type=submit]").click()
    await expect(page.get_by_test_id("binding-result")).to_contain_text("role:")
    await page.get_by_test_id("binding-role").fill("state")
    await page.get_by_test_id("binding-form").locator("button[type=submit]").click()
    await expect(page.get_by_test_id("binding-result")).to_contain_text("state bound")
    await expect(page.locator('[data-testid=bindings] tr[data-binding="state"]')).to_contain_text(
        "nsu=urn:vendor:press;s=Press2.State")
    await browsing.shot("01-work-unit")

    async with httpx.AsyncClient(base_url=browsing.base_url) as http:
        token = (await http.post("/auth/token", data={"username": "sam", "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        units = (await http.get("/equipment", headers=headers, params={"level": "work_unit"})).json()["items"]
    seen = [(u["path"], u["opcua_endpoint"], [(b["name"], b["access"]) for b in u["node_bindings"]]) for u in units]
    assert seen == [
        ("Acme.Lyon.Fabrication.PressLine.Press2",
         {"url": "opc.tcp://10.0.4.21:4840/", "namespace_uri": "urn:vendor:press", "security_policy": "Basic256Sha256",
          "security_mode": "SignAndEncrypt"}, [("state", "read")])]

    # a setpoint's engineering limits: not a number and min above max are refused naming the field
    await page.get_by_test_id("binding-role").fill("Setpoints.Pressure")
    await page.get_by_test_id("binding-node").fill("nsu=urn:vendor:press;s=Press2.Setpoints.Pressure")
    await page.get_by_test_id("binding-access").select_option("read_write")
    await page.get_by_test_id("binding-min_value").fill("0")
    await page.get_by_test_id("binding-max_value").fill("NaN")
    await page.get_by_test_id("binding-form").locator("button[type=submit]").click()
    await expect(page.get_by_test_id("binding-result")).to_contain_text("max_value:")
    await page.get_by_test_id("binding-min_value").fill("9")
    await page.get_by_test_id("binding-max_value").fill("8")
    await page.get_by_test_id("binding-form").locator("button[type=submit]").click()
    await expect(page.get_by_test_id("binding-result")).to_contain_text("min_value 9 is above max_value 8")
    await page.get_by_test_id("binding-min_value").fill("0")
    await page.get_by_test_id("binding-max_value").fill("8.5")
    await page.get_by_test_id("binding-form").locator("button[type=submit]").click()
    await expect(page.get_by_test_id("binding-result")).to_contain_text("Setpoints.Pressure bound")
    await expect(page.locator('[data-testid=bindings] tr[data-binding="Setpoints.Pressure"]')).to_contain_text(
        "0 .. 8.5")
    await browsing.shot("02-setpoint-limits")
    await browsing.sign_out()

    # the supervisor reads the same, without forms to change it
    await browsing.sign_in("sam")
    await page.click("[data-nav=equipment]")
    await page.locator('[data-testid=equipment-tree] a[data-path="Acme.Lyon.Fabrication.PressLine.Press2"]').click()
    await expect(page.get_by_test_id("endpoint-url")).to_be_disabled()
    await expect(page.get_by_test_id("binding-form")).to_have_count(0)
    await expect(page.get_by_test_id("add-equipment")).to_have_count(0)
    assert browsing.foreign_requests() == []
