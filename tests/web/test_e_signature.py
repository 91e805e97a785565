"""An approval marked for an electronic signature, in headless Chromium against the real API,
Temporal and a worker: the inbox asks for the password again (the meaning of the signature shown),
refuses to send without it, shows the API's refusal of a wrong one, completes with the right one, and
the audit trail keeps who signed, when and what it means (issue J.3).
Screenshots: test-artifacts/web/<test name>/."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import expect

from web.browsing import PASSWORD, Browsing

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"


def signed_approval() -> bytes:
    return (DIAGRAMS / "approval.bpmn").read_text().replace(
        '<zeebe:assignmentDefinition candidateGroups="supervisors" />',
        '<zeebe:assignmentDefinition candidateGroups="supervisors" />\n'
        '        <zeebe:taskHeaders>\n'
        '          <zeebe:header key="signature" value="approved by" />\n'
        '        </zeebe:taskHeaders>',
    ).replace('id="approval"', 'id="approval_signed"').encode()


async def test_the_inbox_asks_for_the_password_of_a_signed_approval(browsing: Browsing, worker: None) -> None:
    async with httpx.AsyncClient(base_url=browsing.base_url) as http:
        token = (await http.post("/auth/token", data={"username": "erin", "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        deployed = await http.post("/process-definitions", headers=headers,
                                   files={"file": ("approval_signed.bpmn", signed_approval())})
        assert deployed.status_code == 201, deployed.text
        started = await http.post("/instances", headers=headers, json={
            "process_id": "approval_signed", "business_key": "PO-SIG",
            "variables": {"order_id": "PO-SIG", "qty": 20, "new_qty": 30}})
        assert started.status_code == 201, started.text

    page = browsing.page
    await browsing.sign_in("sam")
    await page.click("[data-nav=inbox]")
    row = page.locator("[data-testid=task-row]", has_text="Approve quantity change")
    await expect(row).to_be_visible(timeout=20_000)
    await row.click()
    signature = page.get_by_test_id("signature")
    await expect(signature).to_contain_text("approved by")
    await page.check("input[name=approved]")
    await page.fill("input[name=comment]", "signed off")

    await page.get_by_test_id("complete").click()  # no password: not sent
    await expect(page.get_by_test_id("task-status")).to_contain_text("Enter your password")
    await page.get_by_test_id("signature-password").fill("not-my-password")
    await page.get_by_test_id("complete").click()
    await expect(page.get_by_test_id("task-status")).to_contain_text("wrong password")
    await expect(page.get_by_test_id("signature-password")).to_have_value("")  # not kept in the page
    await browsing.shot("01-wrong-password")

    await page.get_by_test_id("signature-password").fill(PASSWORD)
    await page.get_by_test_id("complete").click()
    await expect(page.get_by_test_id("task-done")).to_be_visible(timeout=20_000)
    await browsing.shot("02-signed")

    async with httpx.AsyncClient(base_url=browsing.base_url) as http:
        token = (await http.post("/auth/token", data={"username": "sam", "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        trail = (await http.get("/audit", headers=headers, params={"action": "task.approved"})).json()["items"]
    assert len(trail) == 1 and trail[0]["actor"] == "sam", trail
    assert trail[0]["details"]["signature"]["meaning"] == "approved by"
    assert trail[0]["details"]["signature"]["signed_by"] == "sam"
    assert PASSWORD not in str(trail[0])
    assert browsing.foreign_requests() == []
