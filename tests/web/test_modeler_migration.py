"""Migrating running instances from the Modeler, in headless Chromium against the real API, Temporal
and a worker: the check replays the instance against each version (one where its waiting task is gone
is unsafe, and says why), then only the safe move is made, with its reason in the audit trail.
Screenshots: test-artifacts/web/<test name>/."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import httpx
from playwright.async_api import expect

from web.browsing import PASSWORD, Browsing

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"
NOTIFY = ('<bpmn:sequenceFlow id="f4" sourceRef="apply" targetRef="notify" />'
          '<bpmn:serviceTask id="notify" name="Notify operators"><bpmn:extensionElements>'
          '<zeebe:taskDefinition type="mom.log" /><zeebe:ioMapping>'
          '<zeebe:input source="=&quot;new quantity&quot;" target="message" />'
          '</zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>'
          '<bpmn:sequenceFlow id="f5" sourceRef="notify" targetRef="end_applied" />')


async def _headers(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    token = (await http.post("/auth/token", data={"username": username, "password": PASSWORD})).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


async def test_check_then_migrate_the_safe_instances(browsing: Browsing, worker: None) -> None:
    process_id = f"approval_{secrets.token_hex(3)}"
    v1 = (DIAGRAMS / "approval.bpmn").read_text().replace('id="approval"', f'id="{process_id}"')
    v2 = v1.replace('<bpmn:sequenceFlow id="f4" sourceRef="apply" targetRef="end_applied" />', NOTIFY)
    v3 = v1.replace('"approve"', '"approve_quantity"')  # the task the instance waits at is gone
    assert v1 != v2 and v1 != v3
    async with httpx.AsyncClient(base_url=browsing.base_url, timeout=30) as http:
        engineer, supervisor = await _headers(http, "erin"), await _headers(http, "sam")
        deployed = await http.post("/process-definitions", headers=engineer, files={"file": ("a.bpmn", v1.encode())})
        assert deployed.status_code == 201, deployed.text
        started = await http.post("/instances", headers=supervisor, json={
            "process_id": process_id, "variables": {"order_id": "PO-M", "qty": 1, "new_qty": 2}})
        workflow_id = started.json()["workflow_id"]
        for _ in range(150):
            state = (await http.get(f"/instances/{workflow_id}/state", headers=supervisor)).json()
            if state.get("user_tasks"):
                break
            await asyncio.sleep(0.2)
        for text in (v2, v3):
            deployed = await http.post("/process-definitions", headers=engineer,
                                       files={"file": ("a.bpmn", text.encode())})
            assert deployed.status_code == 201, deployed.text

    page = browsing.page
    await browsing.sign_in("erin")
    await page.click("[data-nav=modeler]")
    await page.get_by_test_id("deployed").select_option(f"{process_id}@3")
    migration = page.get_by_test_id("migration")
    await expect(migration.get_by_test_id("migrate-to")).to_have_value("3")

    # v3: unsafe, and why; nothing to move
    await migration.get_by_test_id("migrate-check").click()
    await expect(migration.get_by_test_id("migration-summary")).to_have_text("1 running, 0 safe to move to v3")
    verdict = migration.locator(f'[data-testid=migration-verdicts] tr[data-instance="{workflow_id}"]')
    await expect(verdict).to_contain_text("unsafe")
    await expect(verdict).to_contain_text("approve")
    await expect(migration.get_by_test_id("migrate-safe")).to_be_hidden()
    await browsing.shot("01-unsafe")

    # v2: safe; moved once a reason is given
    await migration.get_by_test_id("migrate-to").select_option("2")
    await migration.get_by_test_id("migrate-check").click()
    await expect(migration.get_by_test_id("migration-summary")).to_have_text("1 running, 1 safe to move to v2")
    await migration.get_by_test_id("migrate-safe").click()
    await expect(migration.get_by_test_id("migration-report")).to_contain_text("reason")
    await migration.get_by_test_id("migrate-reason").fill("operators want a notice")
    await migration.get_by_test_id("migrate-safe").click()
    await expect(migration.get_by_test_id("migration-summary")).to_have_text("1 moved to v2")
    await expect(verdict).to_contain_text("migrated")
    await browsing.shot("02-migrated")

    async with httpx.AsyncClient(base_url=browsing.base_url, timeout=30) as http:
        trail = (await http.get("/audit", headers=engineer, params={"action": "instance.migrated",
                                                                     "entity_id": workflow_id})).json()["items"]
        assert [(e["actor"], e["reason"], e["details"]["to_version"]) for e in trail] == [
            ("erin", "operators want a notice", 2)]
        await http.post(f"/instances/{workflow_id}/cancel", headers=supervisor, json={"reason": "test done"})
    assert browsing.foreign_requests() == []
