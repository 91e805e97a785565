"""Production orders through the API: receive (JSON and B2MML), list, show, release to job
orders, change quantity, cancel; and the refusals (401, 403, 404, 409, 422)."""

from __future__ import annotations

import pytest
from api_client import Api
from plant_data import Plant, seed_plant

B2MML = """<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML"><ID>SCH-{tag}</ID>
<ProductionRequest><ID>PO-{tag}-B1</ID><ProductProductionRuleID>{product}</ProductProductionRuleID>
<EndTime>2026-03-05T12:00:00Z</EndTime>
<MaterialProducedRequirement><MaterialDefinitionID>{product}</MaterialDefinitionID>
<Quantity><QuantityString>25</QuantityString><UnitOfMeasure>pcs</UnitOfMeasure></Quantity>
</MaterialProducedRequirement></ProductionRequest></ProductionSchedule>"""


@pytest.fixture
def plant(api: Api) -> Plant:
    return seed_plant(api.database)


async def test_order_lifecycle(api: Api, plant: Plant) -> None:
    number = f"PO-{plant.tag}-1"
    body = {"order_number": number, "product_code": plant.product, "quantity": "40", "due_at": "2026-03-05T12:00:00Z"}
    created = await api.post("/orders", "sam", json=body)
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "received" and order["revision"] == "A" and order["unit"] == "pcs"
    assert [(j["sequence"], j["operation"], j["status"]) for j in order["job_orders"]] == [
        (10, "Blank", "planned"), (20, "Form", "planned")]

    listed = await api.get("/orders", "otto", params={"product_code": plant.product, "status": "received"})
    assert [o["order_number"] for o in listed.json()["items"]] == [number]
    assert (await api.get("/orders", "otto", params={"product_code": plant.product, "status": "released"})
            ).json()["total"] == 0
    assert (await api.get("/orders", "otto", params={"product_code": plant.product,
                                                     "due_before": "2026-03-01T00:00:00Z"})).json()["total"] == 0
    assert (await api.get(f"/orders/{number}", "otto")).json()["quantity"] == "40"

    changed = await api.post(f"/orders/{number}/quantity", "sam", json={"quantity": 55, "reason": "ERP change"})
    assert changed.status_code == 200, changed.text
    assert {j["quantity"] for j in changed.json()["job_orders"]} == {"55"}
    released = await api.post(f"/orders/{number}/release", "sam", json={"reason": "shift A"})
    assert released.status_code == 200 and released.json()["status"] == "released"
    again = await api.post(f"/orders/{number}/release", "sam", json={})
    assert again.status_code == 409 and "released" in again.json()["detail"]
    cancelled = await api.post(f"/orders/{number}/cancel", "sam", json={"reason": "customer withdrew"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert {j["status"] for j in cancelled.json()["job_orders"]} == {"cancelled"}
    late = await api.post(f"/orders/{number}/quantity", "sam", json={"quantity": 10})
    assert late.status_code == 409 and "cancelled" in late.json()["detail"]
    assert (await api.post(f"/orders/{number}/cancel", "sam", json={})).status_code == 409
    audit = await api.get("/audit", "sam", params={"entity_type": "production order", "entity_id": number})
    assert {"production_order.received", "production_order.quantity_changed", "production_order.status_changed"} <= {
        e["action"] for e in audit.json()["items"]}


async def test_release_makes_job_orders_from_the_routing(api: Api, plant: Plant) -> None:
    number = f"PO-{plant.tag}-2"
    created = await api.post("/orders", "sam", json={"order_number": number, "product_code": plant.product,
                                                     "quantity": 5, "explode": False})
    assert created.status_code == 201 and created.json()["job_orders"] == []
    released = await api.post(f"/orders/{number}/release", "sam", json={})
    assert [j["operation"] for j in released.json()["job_orders"]] == ["Blank", "Form"]
    bare = f"PO-{plant.tag}-3"
    assert (await api.post("/orders", "sam", json={"order_number": bare, "product_code": plant.bare_product,
                                                   "quantity": 5, "explode": False})).status_code == 201
    refused = await api.post(f"/orders/{bare}/release", "sam", json={})
    assert refused.status_code == 409 and plant.bare_product in refused.json()["detail"]


async def test_order_refusals(api: Api, plant: Plant) -> None:
    body = {"order_number": f"PO-{plant.tag}-9", "product_code": plant.product, "quantity": 1}
    assert (await api.http.post("/orders", json=body)).status_code == 401
    assert (await api.post("/orders", "otto", json=body)).status_code == 403
    assert (await api.post("/orders", "erin", json=body)).status_code == 403
    unknown = await api.post("/orders", "sam", json={**body, "product_code": "NO-SUCH"})
    assert unknown.status_code == 404 and "NO-SUCH" in unknown.json()["detail"]
    for bad in ({**body, "quantity": 0}, {**body, "quantity": "-3"}, {**body, "order_number": "has space"},
                {**body, "due_at": "2026-03-05T12:00:00"}):
        response = await api.post("/orders", "sam", json=bad)
        assert response.status_code == 422, (bad, response.text)
    assert (await api.post("/orders", "root", json=body)).status_code == 201
    assert (await api.post("/orders", "sam", json=body)).status_code == 409
    number = body["order_number"]
    assert (await api.get("/orders/PO-NOPE", "otto")).status_code == 404
    assert (await api.post("/orders/PO-NOPE/release", "sam", json={})).status_code == 404
    assert (await api.post("/orders/PO-NOPE/quantity", "sam", json={"quantity": 1})).status_code == 404
    assert (await api.post("/orders/PO-NOPE/cancel", "sam", json={})).status_code == 404
    for path, payload in ((f"/orders/{number}/release", {}), (f"/orders/{number}/quantity", {"quantity": 2}),
                          (f"/orders/{number}/cancel", {})):
        assert (await api.post(path, "otto", json=payload)).status_code == 403
        assert (await api.http.post(path, json=payload)).status_code == 401
    assert (await api.post(f"/orders/{number}/quantity", "sam", json={"quantity": -1})).status_code == 422
    assert (await api.get("/orders", "otto", params={"status": "bogus"})).status_code == 422
    assert (await api.http.get(f"/orders/{number}")).status_code == 401
    assert (await api.get(f"/orders/{number}", "nora")).status_code == 403


async def test_b2mml_schedule_upload(api: Api, plant: Plant) -> None:
    document = B2MML.format(tag=plant.tag, product=plant.product).encode()
    files = {"file": ("schedule.xml", document, "application/xml")}
    assert (await api.post("/orders/b2mml", "otto", files=files)).status_code == 403
    imported = await api.post("/orders/b2mml", "sam", files=files)
    assert imported.status_code == 201, imported.text
    assert imported.json()["schedule_id"] == f"SCH-{plant.tag}"
    (order,) = imported.json()["orders"]
    assert order["order_number"] == f"PO-{plant.tag}-B1" and order["source"] == f"b2mml:SCH-{plant.tag}"
    assert order["quantity"] == "25" and len(order["job_orders"]) == 2
    duplicate = await api.post("/orders/b2mml", "sam", files=files)
    assert duplicate.status_code == 409 and f"PO-{plant.tag}-B1" in duplicate.json()["detail"]
    broken = await api.post("/orders/b2mml", "sam", files={"file": ("bad.xml", b"<ProductionSchedule>", "text/xml")})
    assert broken.status_code == 422
    problem = broken.json()["detail"]["problems"][0]
    assert problem["file"] == "bad.xml" and "malformed" in problem["message"]
