"""The audit log (list, filters, verification naming the first break) and machine events."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from api_client import Api
from plant_data import Plant, seed_plant

from mom.db import create_database_engine
from mom.db.models import AuditEntry


def edit_reason_behind_the_api(url: str, seq: int, reason: str) -> None:
    """What someone with database rights could do: lift the append-only trigger, edit, put it back."""
    engine = create_database_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                ddl = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND "
                                           "name = 'audit_entries_no_update'")).scalar_one()
                conn.execute(sa.text("DROP TRIGGER audit_entries_no_update"))
            else:
                conn.execute(sa.text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
            conn.execute(sa.update(AuditEntry).where(AuditEntry.seq == seq).values(reason=reason))
            if conn.dialect.name == "sqlite":
                conn.execute(sa.text(ddl))
            else:
                conn.execute(sa.text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))
    finally:
        engine.dispose()


@pytest.fixture
def plant(api: Api) -> Plant:
    return seed_plant(api.database)


async def test_audit_list_and_verify(api: Api, plant: Plant) -> None:
    await api.post(f"/lots/{plant.steel_lot}/hold", "sam", json={"reason": "audit test"})
    entries = await api.get("/audit", "sam", params={"entity_type": "lot", "entity_id": plant.steel_lot})
    assert entries.status_code == 200
    (entry,) = entries.json()["items"]
    assert (entry["actor"], entry["action"], entry["reason"]) == ("sam", "lot.status_changed", "audit test")
    assert entry["details"] == {"from": "available", "to": "on_hold"} and len(entry["hash"]) == 64
    by_actor = await api.get("/audit", "erin", params={"actor": "sam", "action": "lot.status_changed", "limit": 1})
    assert by_actor.json()["items"][0]["seq"] >= entry["seq"]
    assert (await api.get("/audit", "sam", params={"since": "2999-01-01T00:00:00Z"})).json()["total"] == 0
    assert (await api.get("/audit", "sam", params={"since": "2026-01-01T00:00:00"})).status_code == 422

    intact = await api.get("/audit/verify", "sam")
    assert intact.status_code == 200 and intact.json()["intact"] is True and intact.json()["first_break"] is None
    assert intact.json()["head_seq"] >= entry["seq"]

    edit_reason_behind_the_api(api.database.url, entry["seq"], "nothing to see")
    try:
        broken = (await api.get("/audit/verify", "erin")).json()
        assert broken["intact"] is False
        assert broken["first_break"]["seq"] == entry["seq"] and broken["first_break"]["kind"] == "edited"
    finally:
        edit_reason_behind_the_api(api.database.url, entry["seq"], "audit test")
    assert (await api.get("/audit/verify", "sam")).json()["intact"] is True


async def test_audit_refusals(api: Api) -> None:
    assert (await api.http.get("/audit")).status_code == 401
    assert (await api.http.get("/audit/verify")).status_code == 401
    assert (await api.get("/audit", "otto")).status_code == 403
    assert (await api.get("/audit/verify", "otto")).status_code == 403
    assert (await api.get("/audit", "sam", params={"limit": 0})).status_code == 422


async def test_machine_events(api: Api, plant: Plant) -> None:
    events = await api.get("/machine-events", "otto", params={"work_unit_id": plant.press_id})
    assert [e["name"] for e in events.json()["items"]] == ["Stopped", "E-STOP", "Execute"]  # newest first
    alarms = await api.get("/machine-events", "otto", params={"work_unit": plant.press_path, "kind": "alarm"})
    assert [(e["name"], e["severity"]) for e in alarms.json()["items"]] == [("E-STOP", 900)]
    window = await api.get("/machine-events", "otto", params={"work_unit_id": plant.press_id,
                                                              "since": "2026-03-02T06:01:00Z",
                                                              "until": "2026-03-02T07:02:00+01:00"})
    assert [e["name"] for e in window.json()["items"]] == ["E-STOP"]
    by_name = await api.get("/machine-events", "otto", params={"work_unit_id": plant.press_id, "name": "Execute"})
    assert by_name.json()["total"] == 1
    unknown = await api.get("/machine-events", "otto", params={"work_unit": "Nowhere.Press9"})
    assert unknown.status_code == 404 and "Nowhere.Press9" in unknown.json()["detail"]
    assert (await api.get("/machine-events", "otto", params={"kind": "smoke"})).status_code == 422
    assert (await api.get("/machine-events", "otto", params={"since": "yesterday"})).status_code == 422
    assert (await api.http.get("/machine-events")).status_code == 401
    assert (await api.get("/machine-events", "nora")).status_code == 403
