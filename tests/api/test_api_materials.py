"""Lots through the API: list, show, hold and release, genealogy backward and forward; refusals."""

from __future__ import annotations

import pytest
from api_client import Api
from plant_data import Plant, seed_plant


@pytest.fixture
def plant(api: Api) -> Plant:
    return seed_plant(api.database)


async def test_lots_hold_release_and_genealogy(api: Api, plant: Plant) -> None:
    listed = await api.get("/lots", "otto", params={"material_code": f"STEEL{plant.tag}"})
    assert [(lot["lot_number"], lot["quantity"], lot["unit"]) for lot in listed.json()["items"]] == [
        (plant.steel_lot, "90", "kg")]
    shown = await api.get(f"/lots/{plant.blank_lot}", "otto")
    assert shown.json()["status"] == "consumed"  # all 40 went into the brackets
    materials = await api.get("/materials", "otto", params={"search": plant.tag})
    assert materials.json()["total"] == 3

    held = await api.post(f"/lots/{plant.steel_lot}/hold", "sam", json={"reason": "supplier recall"})
    assert held.status_code == 200 and held.json()["status"] == "on_hold"
    on_hold = await api.get("/lots", "otto", params={"status": "on_hold", "material_code": f"STEEL{plant.tag}"})
    assert on_hold.json()["total"] == 1
    twice = await api.post(f"/lots/{plant.steel_lot}/hold", "sam", json={})
    assert twice.status_code == 409 and "on_hold" in twice.json()["detail"]
    released = await api.post(f"/lots/{plant.steel_lot}/release", "sam", json={})
    assert released.status_code == 200 and released.json()["status"] == "available"
    consumed = await api.post(f"/lots/{plant.blank_lot}/release", "sam", json={})
    assert consumed.status_code == 409 and plant.blank_lot in consumed.json()["detail"]

    backward = await api.get(f"/lots/{plant.bracket_lot}/genealogy", "otto")
    assert [(s["depth"], s["consumed_lot"], s["produced_lot"]) for s in backward.json()["items"]] == [
        (1, plant.blank_lot, plant.bracket_lot), (2, plant.steel_lot, plant.blank_lot)]
    forward = await api.get(f"/lots/{plant.steel_lot}/genealogy", "otto", params={"direction": "forward"})
    assert [s["produced_lot"] for s in forward.json()["items"]] == [plant.blank_lot, plant.bracket_lot]
    first = await api.get(f"/lots/{plant.steel_lot}/genealogy", "otto", params={"direction": "forward", "limit": 1})
    assert first.json()["total"] == 2 and len(first.json()["items"]) == 1
    assert forward.json()["items"][0]["operation"] == "Blank" and forward.json()["items"][0]["quantity"] == "10"


async def test_lot_refusals(api: Api, plant: Plant) -> None:
    assert (await api.http.get("/lots")).status_code == 401
    assert (await api.get("/lots", "nora")).status_code == 403
    assert (await api.get("/lots", "otto", params={"status": "lost"})).status_code == 422
    assert (await api.get("/lots/NO-SUCH-LOT", "otto")).status_code == 404
    assert (await api.get("/lots/NO-SUCH-LOT/genealogy", "otto")).status_code == 404
    assert (await api.get(f"/lots/{plant.steel_lot}/genealogy", "otto",
                          params={"direction": "sideways"})).status_code == 422
    assert (await api.post(f"/lots/{plant.steel_lot}/hold", "otto", json={})).status_code == 403
    assert (await api.http.post(f"/lots/{plant.steel_lot}/hold", json={})).status_code == 401
    assert (await api.post("/lots/NO-SUCH-LOT/hold", "sam", json={})).status_code == 404
    assert (await api.post(f"/lots/{plant.steel_lot}/hold", "sam", json={"reason": "x" * 501})).status_code == 422


async def test_recall_hold_of_a_suspect_lot(api: Api, plant: Plant) -> None:
    assert (await api.post(f"/lots/{plant.steel_lot}/recall-hold", "otto", json={"reason": "coil"})).status_code == 403
    assert (await api.post(f"/lots/{plant.steel_lot}/recall-hold", "sam", json={})).status_code == 422  # why?
    assert (await api.post("/lots/NO-SUCH-LOT/recall-hold", "sam", json={"reason": "coil"})).status_code == 404
    recall = await api.post(f"/lots/{plant.steel_lot}/recall-hold", "sam", json={"reason": "supplier recalls the coil"})
    assert recall.status_code == 200, recall.text
    assert recall.json() == {"lot_number": plant.steel_lot, "held": [plant.steel_lot, plant.bracket_lot],
                             "left": {plant.blank_lot: "consumed"}}
    bracket = await api.get(f"/lots/{plant.bracket_lot}", "otto")
    assert bracket.json()["status"] == "on_hold"
    trail = await api.get("/audit", "sam", params={"entity_type": "lot", "entity_id": plant.bracket_lot})
    assert trail.json()["items"][0]["reason"] == f"recall of {plant.steel_lot}: supplier recalls the coil"
