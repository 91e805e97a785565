"""B2MML (ISA-95 XML, MESA): read production schedules / requests from ERP, write production
performance back. Pure document handling on the ISA-95 domain types (``mom.domain.exchange``), no
I/O: the API imports ERP schedules with it, the records activity writes performance with it.

Reading uses the one hardened lxml parser of the project (``bpmn.xml``: no entities, DTDs, network
or huge trees) and checks the
B2MML structure the MES relies on: the root element, required IDs, quantities, and date-times.
Every problem names the file, the line and the element; all problems of a file are reported at
once in a :class:`B2mmlError`. Unknown optional elements are ignored, as B2MML allows extension.
Namespaces ``http://www.mesa.org/xml/B2MML`` and the versioned ``...B2MML-V0600`` style are read;
``B2MML_NS`` is written.

Bounds (what ERP may send; each refusal names the file, line, element and value):

- A DOCTYPE, entity declaration or entity reference is refused in any encoding (UTF-16 and UTF-32
  too): the byte check sees only ASCII-compatible encodings, so the parsed tree is checked as well.
- Quantities are finite decimals within :func:`mom.domain.values.check_stored_amount` (below 10^12,
  at most 15 significant digits and 6 decimals: what both databases keep exactly), never floats.
- IDs and codes are at most ``MAX_ID_CHARS`` (100) characters, the length of the order number,
  product, material and lot columns; units at most ``MAX_UNIT_CHARS`` (20); descriptions, equipment
  paths and parameter values have their own caps (``TEXT_LIMITS``). A request ID becomes an order
  number, so it also has to be one the API can address (letters, digits and ``_.:/-``).
- At most ``MAX_SCHEDULE_REQUESTS`` (1,000) production requests a document. Why a bound rather than
  any size: an import is one transaction (all or nothing), and on SQLite a transaction holds the one
  write lock of the database; every other writer waits for it (busy timeout 10 s) while it runs. The
  import is done in bulk (about 550 orders a second on SQLite on a loaded 2-core machine;
  ``bench/b2mml_import.py``), so a full document holds the lock for about 2 s, well within the busy
  timeout; ERP sends larger plans as several documents.
  Bounding the document keeps that wait short whatever ERP sends; without it, 10,000 requests held
  the lock for 41.8 s and a concurrent ``POST /orders`` failed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from bpmn.xml import hardened_parser
from mom.domain.exchange import (
    MaterialActual,
    MaterialRequirement,
    MaterialUse,
    ProductionPerformance,
    ProductionRequest,
    ProductionResponse,
    ProductionSchedule,
    SegmentRequirement,
    SegmentResponse,
)
from mom.domain.values import Quantity, amount_problem, format_amount

B2MML_NS = "http://www.mesa.org/xml/B2MML"
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_SCHEDULE_REQUESTS = 1_000
MAX_ID_CHARS = 100
MAX_UNIT_CHARS = 20
MAX_SEQUENCE_DIGITS = 9
MAX_PRIORITY = 1000
"""Priorities from -1000 to 1000, as ``POST /orders`` takes them."""
TEXT_LIMITS = {"UnitOfMeasure": MAX_UNIT_CHARS, "Description": 500, "EquipmentID": 600, "ValueString": 1000,
               "ProcessSegmentID": 200}
"""Longest text per element; any other element's text is an ID or code: at most ``MAX_ID_CHARS``."""
ORDER_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]*")
"""What an order number may be (``api.schemas.common.NUMBER``): the API addresses orders by it."""
SCHEDULE_ROOTS = ("ProductionSchedule", "ProcessProductionSchedule", "SyncProductionSchedule")
REQUEST_ROOTS = ("ProductionRequest",)
PERFORMANCE_ROOTS = ("ProductionPerformance", "ProcessProductionPerformance")


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int | None
    element: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{where}: <{self.element}>: {self.message}" if self.element else f"{where}: {self.message}"


class B2mmlError(ValueError):
    """A B2MML document that cannot be used; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _is_b2mml(element: etree._Element) -> bool:
    namespace = etree.QName(element).namespace or ""
    return namespace.startswith("http://www.mesa.org/xml/B2MML")


def _line(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def parse_document(data: bytes | str, source: str) -> etree._Element:
    """The root element of a B2MML document, or :class:`B2mmlError` naming ``source``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise B2mmlError([Problem(source, None, None, f"{len(raw)} bytes; the limit is {MAX_DOCUMENT_BYTES}")])
    refused = Problem(source, None, None, "DTDs and entity declarations are not allowed (a DOCTYPE or entity "
                      "was found); send the document without them")
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise B2mmlError([refused])
    try:
        root = etree.fromstring(raw, parser=hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise B2mmlError([Problem(source, _line(exc.lineno), None, f"malformed XML: {exc.msg}")]) from None
    if root is None:
        raise B2mmlError([Problem(source, None, None, "empty document")])
    # Other encodings (UTF-16, UTF-32, EBCDIC) pass the byte check: ask the parsed tree instead.
    info: Any = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise B2mmlError([refused])
    entity = next(root.iter(etree.Entity), None)
    if entity is not None:
        raise B2mmlError([Problem(source, _line(entity.sourceline), None, f"entity reference {entity.text} is not "
                                  "allowed; write the text itself")])
    if not _is_b2mml(root):
        raise B2mmlError(
            [
                Problem(
                    source,
                    _line(root.sourceline),
                    _local(root),
                    f'not in the B2MML namespace; expected xmlns="{B2MML_NS}"',
                )
            ]
        )
    return root


class _Reader:
    """Walks B2MML elements collecting problems instead of stopping at the first."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def problem(self, element: etree._Element, message: str) -> None:
        self.problems.append(Problem(self.source, _line(element.sourceline), _local(element), message))

    def children(self, element: etree._Element, name: str) -> Iterator[etree._Element]:
        for child in element:
            if isinstance(child.tag, str) and _is_b2mml(child) and _local(child) == name:
                yield child

    def child(self, element: etree._Element, name: str) -> etree._Element | None:
        return next(self.children(element, name), None)

    def text(self, element: etree._Element, name: str, *, required: bool = False) -> str | None:
        child = self.child(element, name)
        value = (child.text or "").strip() if child is not None else ""
        if not value:
            if required:
                self.problem(element, f"<{name}> is required and must not be empty")
            return None
        limit = TEXT_LIMITS.get(name, MAX_ID_CHARS)
        if len(value) > limit:
            self.problem(element, f"<{name}> is {len(value)} characters long ('{value[:40]}...'); "
                                  f"the limit is {limit}")
            return None
        return value

    def time(self, element: etree._Element, name: str) -> datetime | None:
        value = self.text(element, name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.problem(element, f"<{name}> '{value}' is not an ISO 8601 date-time (2026-03-02T06:00:00Z)")
            return None
        if parsed.tzinfo is None:
            self.problem(element, f"<{name}> '{value}' has no time zone; add Z or an offset like +01:00")
            return None
        return parsed.astimezone(UTC)

    def quantity(self, element: etree._Element) -> Quantity | None:
        node = self.child(element, "Quantity")
        if node is None:
            return None
        value = self.text(node, "QuantityString", required=True)
        unit = self.text(node, "UnitOfMeasure", required=True)
        if value is None or unit is None:
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation:
            amount = Decimal("NaN")
        if amount.is_finite() and amount < 0:
            self.problem(node, f"<QuantityString> '{value}' is not a non-negative number")
            return None
        problem = amount_problem(amount) if amount.is_finite() else "is not a number"
        if problem is not None:
            self.problem(node, f"<QuantityString> '{value[:40]}' {problem}")
            return None
        return Quantity(amount, unit)

    def integer(self, element: etree._Element, name: str, *, bound: int) -> int | None:
        value = self.text(element, name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            self.problem(element, f"<{name}> '{value}' is not a whole number")
            return None
        if abs(number) > bound:
            self.problem(element, f"<{name}> '{value}' is out of range: from -{bound} to {bound}")
            return None
        return number

    # -- schedule --------------------------------------------------------------------------

    def material_requirements(self, element: etree._Element) -> list[MaterialRequirement]:
        found = []
        for name, use in (
            ("MaterialProducedRequirement", MaterialUse.PRODUCED),
            ("MaterialConsumedRequirement", MaterialUse.CONSUMED),
            ("MaterialConsumableExpected", MaterialUse.CONSUMABLE),
        ):
            for node in self.children(element, name):
                code = self.text(node, "MaterialDefinitionID", required=True)
                if code is not None:
                    found.append(MaterialRequirement(code, use, self.quantity(node), self.text(node, "MaterialLotID")))
        return found

    def segment(self, element: etree._Element) -> SegmentRequirement:
        parameters: dict[str, Any] = {}
        for node in self.children(element, "SegmentParameter"):
            key = self.text(node, "ID", required=True)
            value_node = self.child(node, "Value")
            value = None if value_node is None else self.text(value_node, "ValueString")
            if key is not None:
                parameters[key] = value
        equipment = self.child(element, "EquipmentRequirement")
        segment_id = self.text(element, "ID", required=True) or ""
        if segment_id.isdigit() and len(segment_id) > MAX_SEQUENCE_DIGITS:
            self.problem(element, f"<ID> '{segment_id[:40]}' is a number too large for a job order sequence "
                                  f"(at most {MAX_SEQUENCE_DIGITS} digits)")
            segment_id = ""
        return SegmentRequirement(
            id=segment_id,
            operation=self.text(element, "ProcessSegmentID"),
            equipment=None if equipment is None else self.text(equipment, "EquipmentID"),
            earliest_start=self.time(element, "EarliestStartTime"),
            latest_end=self.time(element, "LatestEndTime"),
            materials=tuple(self.material_requirements(element)),
            parameters=parameters,
        )

    def request(self, element: etree._Element) -> ProductionRequest:
        request_id = self.text(element, "ID", required=True) or ""
        if request_id and not ORDER_NUMBER.fullmatch(request_id):
            self.problem(element, f"production request ID '{request_id}' cannot be an order number: use letters, "
                                  "digits and _ . : / - only, starting with a letter or digit")
        product = self.text(element, "ProductProductionRuleID") or self.text(element, "ProductDefinitionID")
        segments = [self.segment(node) for node in self.children(element, "SegmentRequirement")]
        produced = [m for m in self.material_requirements(element) if m.use == MaterialUse.PRODUCED]
        produced += [m for s in segments for m in s.materials if m.use == MaterialUse.PRODUCED]
        if product is None and produced:
            product = produced[0].material_code
        if product is None:
            self.problem(element, f"production request '{request_id}': give <ProductProductionRuleID>")
        quantity = next((m.quantity for m in produced if m.material_code == product and m.quantity), None)
        if quantity is None:
            self.problem(
                element,
                f"production request '{request_id}': no quantity to make; add "
                "<MaterialProducedRequirement> with <Quantity> for the product",
            )
        return ProductionRequest(
            id=request_id,
            product_code=product,
            quantity=quantity,
            description=self.text(element, "Description"),
            priority=self.integer(element, "Priority", bound=MAX_PRIORITY),
            start_time=self.time(element, "StartTime"),
            end_time=self.time(element, "EndTime"),
            segments=tuple(segments),
        )

    def schedule(self, element: etree._Element) -> ProductionSchedule:
        location = self.child(element, "Location")
        nodes = list(self.children(element, "ProductionRequest"))
        if len(nodes) > MAX_SCHEDULE_REQUESTS:
            self.problem(element, f"{len(nodes)} production requests; a schedule carries at most "
                                  f"{MAX_SCHEDULE_REQUESTS}: send it as several documents")
            return ProductionSchedule(id="", requests=())
        requests = [self.request(node) for node in nodes]
        if not requests:
            self.problem(element, "a production schedule needs at least one <ProductionRequest>")
        counts = Counter(r.id for r in requests)
        for duplicate in sorted(i for i, n in counts.items() if n > 1):
            self.problem(element, f"production request ID '{duplicate}' appears more than once")
        return ProductionSchedule(
            id=self.text(element, "ID") or "",
            requests=tuple(requests),
            published_at=self.time(element, "PublishedDate"),
            location=None if location is None else self.text(location, "EquipmentID"),
        )

    # -- performance -----------------------------------------------------------------------

    def material_actuals(self, element: etree._Element) -> list[MaterialActual]:
        found = []
        for name, use in (
            ("MaterialProducedActual", MaterialUse.PRODUCED),
            ("MaterialConsumedActual", MaterialUse.CONSUMED),
        ):
            for node in self.children(element, name):
                code = self.text(node, "MaterialDefinitionID", required=True)
                quantity = self.quantity(node)
                if quantity is None:
                    self.problem(node, "<Quantity> is required")
                if code is not None and quantity is not None:
                    found.append(MaterialActual(code, use, quantity, self.text(node, "MaterialLotID")))
        return found

    def performance(self, element: etree._Element) -> ProductionPerformance:
        responses = []
        for node in self.children(element, "ProductionResponse"):
            segments = []
            for seg in self.children(node, "SegmentResponse"):
                equipment = self.child(seg, "EquipmentActual")
                segments.append(
                    SegmentResponse(
                        id=self.text(seg, "ID", required=True) or "",
                        operation=self.text(seg, "ProcessSegmentID"),
                        equipment=None if equipment is None else self.text(equipment, "EquipmentID"),
                        actual_start=self.time(seg, "ActualStartTime"),
                        actual_end=self.time(seg, "ActualEndTime"),
                        materials=tuple(self.material_actuals(seg)),
                    )
                )
            responses.append(
                ProductionResponse(
                    id=self.text(node, "ID", required=True) or "",
                    production_request_id=self.text(node, "ProductionRequestID"),
                    product_code=self.text(node, "ProductProductionRuleID"),
                    start_time=self.time(node, "StartTime"),
                    end_time=self.time(node, "EndTime"),
                    status=self.text(node, "ResponseState"),
                    segments=tuple(segments),
                )
            )
        location = self.child(element, "Location")
        return ProductionPerformance(
            id=self.text(element, "ID", required=True) or "",
            responses=tuple(responses),
            published_at=self.time(element, "PublishedDate"),
            location=None if location is None else self.text(location, "EquipmentID"),
        )


def _payload(root: etree._Element, reader: _Reader, names: tuple[str, ...], wanted: str) -> list[etree._Element]:
    """The ``wanted`` elements of a document, directly or inside a BOD ``DataArea``."""
    if _local(root) == wanted:
        return [root]
    if _local(root) in names:
        data_area = reader.child(root, "DataArea")
        found = [] if data_area is None else list(reader.children(data_area, wanted))
        if not found:
            reader.problem(root, f"no <DataArea>/<{wanted}> in this <{_local(root)}> message")
        return found
    reader.problem(root, f"expected <{wanted}> (or a {', '.join(names[1:])} message) as the root element")
    return []


def read_production_schedule(data: bytes | str, source: str = "<b2mml>") -> ProductionSchedule:
    """Read a ProductionSchedule (or a lone ProductionRequest, or a BOD message carrying one)."""
    root = parse_document(data, source)
    reader = _Reader(source)
    if _local(root) in REQUEST_ROOTS:
        schedule = ProductionSchedule(id="", requests=(reader.request(root),))
    else:
        elements = _payload(root, reader, SCHEDULE_ROOTS, "ProductionSchedule")
        parts = [reader.schedule(element) for element in elements]
        schedule = ProductionSchedule(
            id=parts[0].id if parts else "",
            requests=tuple(r for part in parts for r in part.requests),
            published_at=parts[0].published_at if parts else None,
            location=parts[0].location if parts else None,
        )
        if len(schedule.requests) > MAX_SCHEDULE_REQUESTS:
            reader.problem(root, f"{len(schedule.requests)} production requests; a message carries at most "
                                 f"{MAX_SCHEDULE_REQUESTS}: send it as several messages")
    if reader.problems:
        raise B2mmlError(reader.problems)
    return schedule


def read_production_performance(data: bytes | str, source: str = "<b2mml>") -> ProductionPerformance:
    root = parse_document(data, source)
    reader = _Reader(source)
    elements = _payload(root, reader, PERFORMANCE_ROOTS, "ProductionPerformance")
    performance = reader.performance(elements[0]) if elements else None
    if reader.problems or performance is None:
        raise B2mmlError(reader.problems)
    return performance


def load_production_schedule(path: Path) -> ProductionSchedule:
    return read_production_schedule(path.read_bytes(), str(path))


# -- writing -------------------------------------------------------------------------------


def _el(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{B2MML_NS}}}{name}")
    if text is not None:
        element.text = text
    return element


def _opt(parent: etree._Element, name: str, value: str | datetime | None) -> None:
    if value is None:
        return
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    _el(parent, name, value)


def _quantity(parent: etree._Element, quantity: Quantity) -> None:
    node = _el(parent, "Quantity")
    _el(node, "QuantityString", format_amount(quantity.amount))
    _el(node, "DataType", "decimal")
    _el(node, "UnitOfMeasure", quantity.unit)


def write_production_performance(performance: ProductionPerformance) -> bytes:
    """The performance as a B2MML ProductionPerformance document (UTF-8 bytes)."""
    root = etree.Element(f"{{{B2MML_NS}}}ProductionPerformance", nsmap={None: B2MML_NS})  # type: ignore[dict-item]
    _el(root, "ID", performance.id)
    if performance.location:
        location = _el(root, "Location")
        _el(location, "EquipmentID", performance.location)
        _el(location, "EquipmentElementLevel", "Site")
    _opt(root, "PublishedDate", performance.published_at)
    for response in performance.responses:
        node = _el(root, "ProductionResponse")
        _el(node, "ID", response.id)
        _opt(node, "ProductionRequestID", response.production_request_id)
        _opt(node, "ProductProductionRuleID", response.product_code)
        _opt(node, "StartTime", response.start_time)
        _opt(node, "EndTime", response.end_time)
        _opt(node, "ResponseState", response.status)
        for segment in response.segments:
            seg = _el(node, "SegmentResponse")
            _el(seg, "ID", segment.id)
            _opt(seg, "ProcessSegmentID", segment.operation)
            _opt(seg, "ActualStartTime", segment.actual_start)
            _opt(seg, "ActualEndTime", segment.actual_end)
            if segment.equipment:
                _el(_el(seg, "EquipmentActual"), "EquipmentID", segment.equipment)
            for use, name in (
                (MaterialUse.PRODUCED, "MaterialProducedActual"),
                (MaterialUse.CONSUMED, "MaterialConsumedActual"),
            ):
                for material in (m for m in segment.materials if m.use == use):
                    actual = _el(seg, name)
                    _el(actual, "MaterialDefinitionID", material.material_code)
                    _opt(actual, "MaterialLotID", material.lot_number)
                    _quantity(actual, material.quantity)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
