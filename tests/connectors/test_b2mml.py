"""B2MML: schedules in, performance out; bad files are refused with file, line and element."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from mom.b2mml import (
    B2mmlError,
    load_production_schedule,
    read_production_performance,
    read_production_schedule,
    write_production_performance,
)
from mom.domain.exchange import (
    MaterialActual,
    MaterialUse,
    ProductionPerformance,
    ProductionResponse,
    SegmentResponse,
)
from mom.domain.values import Quantity

SCHEDULE = """<?xml version="1.0" encoding="UTF-8"?>
<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML">
  <ID>SCH-2026-03</ID>
  <Location><EquipmentID>Acme.Lyon</EquipmentID><EquipmentElementLevel>Site</EquipmentElementLevel></Location>
  <PublishedDate>2026-03-01T08:00:00Z</PublishedDate>
  <ProductionRequest>
    <ID>PO-1001</ID>
    <Description>Brackets for customer 42</Description>
    <ProductProductionRuleID>BRACKET</ProductProductionRuleID>
    <StartTime>2026-03-02T06:00:00+01:00</StartTime>
    <EndTime>2026-03-03T14:00:00Z</EndTime>
    <Priority>2</Priority>
    <SegmentRequirement>
      <ID>10</ID>
      <ProcessSegmentID>Blank</ProcessSegmentID>
      <EquipmentRequirement><EquipmentID>Acme.Lyon.Pressing.PressLine</EquipmentID></EquipmentRequirement>
      <MaterialConsumedRequirement>
        <MaterialDefinitionID>STEEL</MaterialDefinitionID>
        <Quantity><QuantityString>125.5</QuantityString><UnitOfMeasure>kg</UnitOfMeasure></Quantity>
      </MaterialConsumedRequirement>
      <SegmentParameter><ID>force_kN</ID><Value><ValueString>80</ValueString></Value></SegmentParameter>
    </SegmentRequirement>
    <SegmentRequirement>
      <ID>20</ID>
      <ProcessSegmentID>Form</ProcessSegmentID>
      <MaterialProducedRequirement>
        <MaterialDefinitionID>BRACKET</MaterialDefinitionID>
        <Quantity><QuantityString>500</QuantityString><UnitOfMeasure>pcs</UnitOfMeasure></Quantity>
      </MaterialProducedRequirement>
    </SegmentRequirement>
  </ProductionRequest>
</ProductionSchedule>
"""


def test_a_schedule_becomes_domain_requests() -> None:
    schedule = read_production_schedule(SCHEDULE, "plan.xml")
    assert (schedule.id, schedule.location) == ("SCH-2026-03", "Acme.Lyon")
    (request,) = schedule.requests
    assert (request.id, request.product_code, request.priority) == ("PO-1001", "BRACKET", 2)
    assert request.quantity == Quantity(Decimal("500"), "pcs")
    assert request.start_time == datetime(2026, 3, 2, 5, tzinfo=UTC)
    blank, form = request.segments
    assert (blank.id, blank.operation, blank.equipment) == ("10", "Blank", "Acme.Lyon.Pressing.PressLine")
    assert blank.parameters == {"force_kN": "80"}
    assert blank.materials[0].use == MaterialUse.CONSUMED
    assert blank.materials[0].quantity == Quantity(Decimal("125.5"), "kg")
    assert form.materials[0].use == MaterialUse.PRODUCED


def test_bod_messages_and_lone_requests_are_read(tmp_path: Path) -> None:
    body = SCHEDULE.split("?>", 1)[1]
    bod = (
        '<ProcessProductionSchedule xmlns="http://www.mesa.org/xml/B2MML-V0600">'
        "<ApplicationArea/><DataArea><Process/>"
        + body.replace("http://www.mesa.org/xml/B2MML", "http://www.mesa.org/xml/B2MML-V0600")
        + "</DataArea></ProcessProductionSchedule>"
    )
    assert read_production_schedule(bod).requests[0].id == "PO-1001"
    request = SCHEDULE.split("<ProductionRequest>", 1)[1].split("</ProductionRequest>")[0]
    lone = f'<ProductionRequest xmlns="http://www.mesa.org/xml/B2MML">{request}</ProductionRequest>'
    path = tmp_path / "request.xml"
    path.write_text(lone)
    assert load_production_schedule(path).requests[0].quantity == Quantity(Decimal(500), "pcs")


def _problems(text: str, source: str = "orders.xml") -> list[str]:
    with pytest.raises(B2mmlError) as raised:
        read_production_schedule(text, source)
    return [str(p) for p in raised.value.problems]


def test_malformed_xml_names_file_and_line() -> None:
    (problem,) = _problems("<ProductionSchedule xmlns='http://www.mesa.org/xml/B2MML'>\n<ID>x</ID>\n<oops>")
    assert problem.startswith("orders.xml:3: malformed XML")


def test_wrong_namespace_and_wrong_root_are_refused() -> None:
    (problem,) = _problems("<ProductionSchedule><ID>1</ID></ProductionSchedule>")
    assert "orders.xml:1: <ProductionSchedule>: not in the B2MML namespace" in problem
    (problem,) = _problems('<MaterialLot xmlns="http://www.mesa.org/xml/B2MML"/>')
    assert "<MaterialLot>: expected <ProductionSchedule>" in problem


def test_entities_and_dtds_are_refused() -> None:
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        '<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML"><ID>&e;</ID></ProductionSchedule>'
    )
    (problem,) = _problems(xxe)
    assert "DTDs and entity declarations are not allowed" in problem


def test_every_structural_problem_is_reported_with_its_line_and_element() -> None:
    bad = (
        SCHEDULE.replace("<ID>PO-1001</ID>", "<ID> </ID>")
        .replace("2026-03-03T14:00:00Z", "next tuesday")
        .replace("2026-03-02T06:00:00+01:00", "2026-03-02T06:00:00")
        .replace("<QuantityString>125.5</QuantityString>", "<QuantityString>lots</QuantityString>")
        .replace("<Priority>2</Priority>", "<Priority>high</Priority>")
    )
    problems = _problems(bad, "plan.xml")
    assert "plan.xml:6: <ProductionRequest>: <ID> is required and must not be empty" in problems
    assert any(p.startswith("plan.xml:6: <ProductionRequest>: <EndTime> 'next tuesday'") for p in problems)
    assert any("<StartTime> '2026-03-02T06:00:00' has no time zone" in p for p in problems)
    assert any(p.startswith("plan.xml:19: <Quantity>: <QuantityString> 'lots'") for p in problems)
    assert any("<Priority> 'high' is not a whole number" in p for p in problems)
    assert len(problems) == 5


def test_a_request_without_product_quantity_or_requests_is_refused() -> None:
    no_quantity = SCHEDULE.replace("<QuantityString>500</QuantityString>", "")
    problems = _problems(no_quantity)
    assert any("<Quantity>: <QuantityString> is required" in p for p in problems)
    assert any("production request 'PO-1001': no quantity to make" in p for p in problems)
    empty = '<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML"><ID>S</ID></ProductionSchedule>'
    assert _problems(empty) == [
        "orders.xml:1: <ProductionSchedule>: a production schedule needs at least one <ProductionRequest>"
    ]
    twice = SCHEDULE.replace(
        "</ProductionSchedule>", SCHEDULE.split("<PublishedDate>2026-03-01T08:00:00Z</PublishedDate>")[1]
    )
    assert any("production request ID 'PO-1001' appears more than once" in p for p in _problems(twice))


def test_performance_is_written_and_reads_back() -> None:
    performance = ProductionPerformance(
        id="PERF-1",
        published_at=datetime(2026, 3, 3, 15, tzinfo=UTC),
        location="Acme.Lyon",
        responses=(
            ProductionResponse(
                id="PO-1001",
                production_request_id="PO-1001",
                product_code="BRACKET",
                start_time=datetime(2026, 3, 2, 5, tzinfo=UTC),
                end_time=datetime(2026, 3, 3, 14, tzinfo=UTC),
                status="completed",
                segments=(
                    SegmentResponse(
                        id="10",
                        operation="Blank",
                        equipment="Acme.Lyon.Pressing.PressLine.Press1",
                        actual_start=datetime(2026, 3, 2, 5, tzinfo=UTC),
                        # B2MML order: produced before consumed
                        materials=(
                            MaterialActual("BRACKET", MaterialUse.PRODUCED, Quantity.of(498, "pcs"), "BR-1"),
                            MaterialActual("STEEL", MaterialUse.CONSUMED, Quantity.of("125.500", "kg"), "S-1"),
                        ),
                    ),
                ),
            ),
        ),
    )
    xml = write_production_performance(performance)
    assert b'xmlns="http://www.mesa.org/xml/B2MML"' in xml
    assert b"<QuantityString>125.5</QuantityString>" in xml
    assert b"<StartTime>2026-03-02T05:00:00Z</StartTime>" in xml
    assert read_production_performance(xml, "perf.xml") == performance
    with pytest.raises(B2mmlError, match=r"perf\.xml:1: <ProductionPerformance>: <ID> is required"):
        read_production_performance(b'<ProductionPerformance xmlns="http://www.mesa.org/xml/B2MML"/>', "perf.xml")
