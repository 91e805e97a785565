"""B2MML schedules and JSON orders within bounds (issue J.9): quantities finite and exact, IDs no longer
than their columns, no DTD or entity in any encoding, at most MAX_SCHEDULE_REQUESTS requests a document;
an import never makes a concurrent writer answer 500, and ``GET /orders`` keeps answering 200."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from api_client import Api
from plant_data import Plant, seed_plant

from mom.b2mml import MAX_SCHEDULE_REQUESTS

HEAD = '<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML"><ID>SCH-{tag}</ID>\n'
REQUEST = """<ProductionRequest><ID>{number}</ID><ProductProductionRuleID>{product}</ProductProductionRuleID>
<MaterialProducedRequirement><MaterialDefinitionID>{product}</MaterialDefinitionID>
<Quantity><QuantityString>{quantity}</QuantityString><UnitOfMeasure>pcs</UnitOfMeasure></Quantity>
</MaterialProducedRequirement></ProductionRequest>
"""


def schedule(plant: Plant, numbers: list[str], quantity: str = "25") -> str:
    body = "".join(REQUEST.format(number=n, product=plant.product, quantity=quantity) for n in numbers)
    return HEAD.format(tag=plant.tag) + body + "</ProductionSchedule>"


async def upload(api: Api, document: str | bytes, name: str = "plan.xml") -> httpx.Response:
    data = document.encode() if isinstance(document, str) else document
    return await api.post("/orders/b2mml", "sam", files={"file": (name, data, "application/xml")})


@pytest.fixture
def plant(api: Api) -> Plant:
    return seed_plant(api.database)


async def orders_answer(api: Api) -> None:
    listed = await api.get("/orders", "otto", params={"limit": 200})
    assert listed.status_code == 200, listed.text


@pytest.mark.parametrize("value", ["1e999999", "12345678901234567890", "1000000000000", "0.0000001",
                                   "1234567890.1234567", "NaN", "-Infinity", "-5"])
async def test_a_quantity_out_of_range_is_refused_naming_element_line_and_value(
        api: Api, plant: Plant, value: str) -> None:
    refused = await upload(api, schedule(plant, [f"PO-{plant.tag}-Q"], quantity=value))
    assert refused.status_code == 422, refused.text
    problem = refused.json()["detail"]["problems"][0]
    assert (problem["file"], problem["line"], problem["element"]) == ("plan.xml", 4, "Quantity"), problem
    assert f"'{value}'" in problem["message"]
    assert (await api.get(f"/orders/PO-{plant.tag}-Q", "otto")).status_code == 404
    await orders_answer(api)


async def test_quantities_are_kept_exactly(api: Api, plant: Plant) -> None:
    exact = "999999999999.999"
    imported = await upload(api, schedule(plant, [f"PO-{plant.tag}-X"], quantity=exact))
    assert imported.status_code == 201, imported.text
    created = await api.post("/orders", "sam", json={"order_number": f"PO-{plant.tag}-Y",
                                                     "quantity": "123456789.123456", "product_code": plant.product})
    assert created.status_code == 201, created.text
    assert (await api.get(f"/orders/PO-{plant.tag}-X", "otto")).json()["quantity"] == exact
    shown = (await api.get(f"/orders/PO-{plant.tag}-Y", "otto")).json()
    assert shown["quantity"] == "123456789.123456"
    assert {job["quantity"] for job in shown["job_orders"]} == {"123456789.123456"}
    await orders_answer(api)


async def test_json_orders_with_the_same_bad_values_are_refused_naming_the_field(api: Api, plant: Plant) -> None:
    body = {"order_number": f"PO-{plant.tag}-J", "product_code": plant.product, "quantity": "1"}
    for field, value in (("quantity", "1e999999"), ("quantity", "12345678901234567890"),
                         ("quantity", "1234567890.1234567"), ("quantity", "Infinity"),
                         ("order_number", "P" * 100_000), ("product_code", "P" * 101), ("unit", "u" * 21)):
        refused = await api.post("/orders", "sam", json={**body, field: value})
        assert refused.status_code == 422, (field, value, refused.text)
        assert field in {loc for error in refused.json()["detail"] for loc in error["loc"]}, refused.text
    await orders_answer(api)


async def test_a_priority_out_of_range_is_refused(api: Api, plant: Plant) -> None:
    document = schedule(plant, [f"PO-{plant.tag}-P"]).replace(
        "</ProductProductionRuleID>", "</ProductProductionRuleID><Priority>99999999999999999999</Priority>")
    refused = await upload(api, document)
    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["detail"]["problems"]
    assert problem["element"] == "ProductionRequest" and "<Priority> '99999999999999999999'" in problem["message"]
    await orders_answer(api)


@pytest.mark.parametrize(("element", "old", "new"), [
    ("ProductionRequest", "<ID>PO-{tag}-L</ID>", "<ID>{long}</ID>"),
    ("ProductionRequest", "<ProductProductionRuleID>{product}</ProductProductionRuleID>",
     "<ProductProductionRuleID>{long}</ProductProductionRuleID>"),
    ("Quantity", "<UnitOfMeasure>pcs</UnitOfMeasure>", "<UnitOfMeasure>{long}</UnitOfMeasure>"),
])
async def test_an_id_longer_than_its_column_is_refused_naming_the_element(
        api: Api, plant: Plant, element: str, old: str, new: str) -> None:
    long = "P" * 100_000
    document = schedule(plant, [f"PO-{plant.tag}-L"]).replace(
        old.format(tag=plant.tag, product=plant.product), new.format(long=long))
    refused = await upload(api, document)
    assert refused.status_code == 422, refused.text[:2000]
    problems = refused.json()["detail"]["problems"]
    assert any(p["element"] == element and "100000 characters" in p["message"] for p in problems), problems
    assert len(refused.text) < 5000
    await orders_answer(api)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-be", "utf-32"])
async def test_a_document_with_an_entity_declaration_is_refused_in_any_encoding(
        api: Api, plant: Plant, encoding: str) -> None:
    text = schedule(plant, [f"PO-{plant.tag}-&e;"]).replace("\n", " ", 1)
    declared = f'<?xml version="1.0" encoding="{encoding.upper()}"?>\n<!DOCTYPE x [<!ENTITY e "1001">]>\n' + text
    data = declared.encode(encoding if encoding != "utf-16" else "utf-16")
    refused = await upload(api, data, name="entity.xml")
    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["detail"]["problems"]
    assert problem["file"] == "entity.xml" and "entity" in problem["message"], problem
    assert (await api.get(f"/orders/PO-{plant.tag}-", "otto")).status_code == 404
    await orders_answer(api)


async def test_a_schedule_over_the_limit_is_refused_quickly_while_another_writer_carries_on(
        api: Api, plant: Plant) -> None:
    numbers = [f"PO-{plant.tag}-{i}" for i in range(10_000)]
    started = time.monotonic()
    refused, created = await asyncio.gather(
        upload(api, schedule(plant, numbers), name="big.xml"),
        api.post("/orders", "sam", json={"order_number": f"PO-{plant.tag}-C", "product_code": plant.product,
                                         "quantity": 3}))
    assert refused.status_code == 422, refused.text[:2000]
    assert created.status_code == 201, created.text
    (problem,) = refused.json()["detail"]["problems"]
    assert problem["file"] == "big.xml" and f"at most {MAX_SCHEDULE_REQUESTS}" in problem["message"], problem
    assert "10000" in problem["message"]
    assert time.monotonic() - started < 20
    assert (await api.get(f"/orders/{numbers[0]}", "otto")).status_code == 404
    await orders_answer(api)


async def test_a_full_schedule_imports_while_concurrent_writers_get_no_500(api: Api, plant: Plant) -> None:
    numbers = [f"PO-{plant.tag}-{i}" for i in range(MAX_SCHEDULE_REQUESTS)]
    document = schedule(plant, numbers)

    async def writers() -> list[httpx.Response]:
        answers = []
        for i in range(5):
            await asyncio.sleep(0.2)
            answers.append(await api.post("/orders", "sam", json={
                "order_number": f"PO-{plant.tag}-W{i}", "product_code": plant.product, "quantity": 2}))
        return answers

    started = time.monotonic()
    imported, answers = await asyncio.gather(upload(api, document, name="full.xml"), writers())
    elapsed = time.monotonic() - started
    assert imported.status_code == 201, imported.text[:2000]
    assert len(imported.json()["orders"]) == MAX_SCHEDULE_REQUESTS
    for answer in answers:
        assert answer.status_code in (201, 503), answer.text
        if answer.status_code == 503:
            assert "Retry-After" in answer.headers
    assert elapsed < 60, elapsed
    listed = await api.get("/orders", "otto", params={"product_code": plant.product, "limit": 10})
    assert listed.status_code == 200 and listed.json()["total"] >= MAX_SCHEDULE_REQUESTS
