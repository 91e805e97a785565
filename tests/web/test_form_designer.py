"""The modeler's form designer (issue G) end to end in headless Chromium: an engineer opens a
diagram with a user task that has no form, designs one in the form-js editor (a required number
with min/max and a checkbox), saves it into the diagram as Camunda Modeler does (an embedded
zeebe:userTaskForm referenced by zeebe:formDefinition), lints, deploys and starts an instance; a
supervisor sees the designed fields in the inbox, gets the per-field error for an out-of-range
value, completes the task and sees the instance complete. Screenshots: test-artifacts/web/<test>/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from lxml import etree
from playwright.async_api import Page, expect

from web.browsing import PASSWORD, Browsing

ZEEBE = "http://camunda.org/schema/zeebe/1.0"
DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
                  id="Definitions_form_check" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="form_check" name="Torque check" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="inspect" name="Inspect part">
      <bpmn:extensionElements>
        <zeebe:assignmentDefinition candidateGroups="supervisors" />
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="inspect" />
    <bpmn:sequenceFlow id="f2" sourceRef="inspect" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


FIELDS = ".fjs-editor-container .fjs-form-field:not(.fjs-powered-by)"


def element(element_id: str, marker: str = "") -> str:
    return f'g.djs-element[data-element-id="{element_id}"]{"." + marker if marker else ""}'


async def add_field(page: Page, field_type: str, label: str, key: str) -> None:
    """Add a component from the form-js palette (Enter on an entry appends it) and name it."""
    designer = page.get_by_test_id("form-designer")
    before = await designer.locator(FIELDS).count()
    entry = designer.locator(f'.fjs-palette-field[data-field-type="{field_type}"]')
    for _attempt in range(3):  # Enter on a focused palette entry appends the component
        await entry.focus()
        await entry.press("Enter")
        try:
            await expect(designer.locator(FIELDS)).to_have_count(before + 1, timeout=2_000)
            break
        except AssertionError:
            continue
    await expect(designer.locator(FIELDS)).to_have_count(before + 1)
    await designer.locator(FIELDS).nth(before).locator("xpath=ancestor::*[contains(@class,'fjs-element')][1]").click()
    await open_group(page, "general")
    await designer.locator("#bio-properties-panel-label").fill(label)
    await designer.locator("#bio-properties-panel-key").fill(key)


async def open_group(page: Page, group_id: str) -> None:
    group = page.get_by_test_id("form-designer").locator(f'[data-group-id="group-{group_id}"]')
    header = group.locator(".bio-properties-panel-group-header")
    if "open" not in (await header.get_attribute("class") or ""):
        await header.click()


async def test_design_form_deploy_and_complete(browsing: Browsing, worker: None, tmp_path: Path) -> None:
    page = browsing.page
    diagram = tmp_path / "form_check.bpmn"
    diagram.write_text(DIAGRAM)

    await browsing.sign_in("erin")
    await page.click("[data-nav=modeler]")
    await expect(page.get_by_test_id("modeler-status")).to_contain_text("Opened new_process.bpmn")
    await page.get_by_test_id("open-file").set_input_files(str(diagram))
    await expect(page.get_by_test_id("modeler-status")).to_contain_text("Opened form_check.bpmn")

    # a user task offers "Design form"; the form-js editor opens over the modeler
    await page.locator(element("inspect")).click()
    await page.get_by_test_id("design-form").click()
    designer = page.get_by_test_id("form-designer")
    await expect(designer.locator(".fjs-palette-field[data-field-type=number]")).to_be_visible()

    await add_field(page, "number", "Torque (Nm)", "torque")
    await open_group(page, "validation")
    await designer.locator("#bio-properties-panel-required").check()
    await designer.locator("#bio-properties-panel-min").fill("10")
    await designer.locator("#bio-properties-panel-max").fill("20")
    await add_field(page, "checkbox", "Part OK", "part_ok")
    await browsing.shot("01-form-designer")
    await page.get_by_test_id("form-designer-save").click()
    await expect(designer).to_be_hidden()
    await expect(page.get_by_test_id("form-summary")).to_have_text(" 2 components")

    await page.get_by_test_id("lint").click()
    await expect(page.get_by_test_id("modeler-status")).to_have_text("No problems found")
    await page.get_by_test_id("deploy").click()
    await expect(page.get_by_test_id("modeler-status")).to_have_text("Deployed form_check version 1")
    await browsing.shot("02-modeler-deployed")

    # the deployed XML holds the form the way Camunda Modeler writes it
    async with httpx.AsyncClient(base_url=browsing.base_url) as http:
        token = (await http.post("/auth/token", data={"username": "erin", "password": PASSWORD})).json()
        xml = (await http.get("/process-definitions/form_check/versions/1/xml",
                              headers={"Authorization": f"Bearer {token['access_token']}"})).text
    xml = json.loads(xml) if xml.startswith('"') else xml
    root = etree.fromstring(xml.encode())
    forms = root.findall(f".//{{{ZEEBE}}}userTaskForm")
    assert len(forms) == 1 and forms[0].getparent().getparent().get("id") == "form_check"
    definition = root.find(f".//*[@id='inspect']//{{{ZEEBE}}}formDefinition")
    assert definition is not None and definition.get("formKey") == f"camunda-forms:bpmn:{forms[0].get('id')}"
    body = json.loads(forms[0].text or "")
    by_key = {c["key"]: c for c in body["components"]}
    assert by_key["torque"]["type"] == "number"
    assert by_key["torque"]["validate"] == {"required": True, "min": 10, "max": 20}
    assert by_key["part_ok"]["type"] == "checkbox"

    await page.get_by_test_id("start-business-key").fill("PART-1")
    await page.get_by_test_id("start-instance").click()
    await expect(page.get_by_test_id("started-link")).to_be_visible()
    workflow_id = re.sub(r"^Started ", "", await page.get_by_test_id("started-link").inner_text())

    # the supervisor gets the designed fields in the inbox
    await browsing.sign_out()
    await browsing.sign_in("sam")
    await page.click("[data-nav=inbox]")
    row = page.locator("[data-testid=task-row]", has_text="Inspect part")
    await expect(row).to_be_visible(timeout=20_000)
    await row.click()
    await page.get_by_test_id("claim").click()
    await expect(page.get_by_test_id("unclaim")).to_be_visible()
    form = page.get_by_test_id("task-form")
    await expect(form.locator("[data-field=torque]")).to_contain_text("Torque (Nm)")
    await expect(form.locator("input[name=part_ok][type=checkbox]")).to_be_visible()
    await page.fill("input[name=torque]", "25")
    await page.check("input[name=part_ok]")
    await page.get_by_test_id("complete").click()
    await expect(page.locator('[data-error-for="torque"]')).to_contain_text("20")
    await browsing.shot("03-inbox-out-of-range")
    await page.fill("input[name=torque]", "15")
    await page.get_by_test_id("complete").click()
    await expect(page.get_by_test_id("task-done")).to_be_visible()
    await browsing.shot("04-inbox-completed")

    await page.goto(f"{browsing.base_url}/ui/#/instances/{workflow_id}")
    await expect(page.get_by_test_id("instance-status")).to_have_text("completed", timeout=20_000)
    await expect(page.get_by_test_id("variables")).to_contain_text("part_ok")
    await browsing.shot("05-instance-completed")
    assert browsing.foreign_requests() == []
