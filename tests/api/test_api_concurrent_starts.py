"""First starts of a process deployed with ``mom deploy`` (no database row yet) arriving together
all succeed: the definition row is recorded once (a race that answered 500 on PostgreSQL)."""

from __future__ import annotations

import asyncio
import secrets

from api_client import Api
from test_api_inbox import DIAGRAMS

from mom.deployment import deploy_bytes
from mom.process_store import ProcessStore
from mom.settings import Settings


async def test_concurrent_first_starts(api: Api, settings: Settings) -> None:
    process_id = f"parallel_{secrets.token_hex(3)}"
    xml = (DIAGRAMS / "approval.bpmn").read_text().replace('id="approval"', f'id="{process_id}"')
    deploy_bytes(ProcessStore.for_settings(settings), xml.encode(), "approval.bpmn", deployed_by="cli")
    body = {"process_id": process_id, "variables": {"order_id": "PO-C", "qty": 1, "new_qty": 2}}
    started = await asyncio.gather(*(api.post("/instances", "sam", json=body) for _ in range(4)))
    assert [r.status_code for r in started] == [201] * 4, [r.text for r in started]
    versions = await api.get(f"/process-definitions/{process_id}/versions", "sam")
    assert versions.json()["total"] == 1
    for response in started:  # no worker runs them: cancel so they do not linger
        await api.post(f"/instances/{response.json()['workflow_id']}/cancel", "sam", json={})
