"""The one hardened XML reader for diagrams: no entities, no DTD, no network, bounded size."""

from __future__ import annotations

from lxml import etree

from bpmn.errors import BpmnError

MAX_DIAGRAM_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 200

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
MODELER_NS = "http://camunda.org/schema/modeler/1.0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"bpmn": BPMN_NS, "zeebe": ZEEBE_NS, "spiffworkflow": SPIFF_NS}


def hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_diagram(data: bytes | str, source: str) -> etree._Element:
    """Parse diagram bytes into the root element of a BPMN ``definitions`` document.

    Raises :class:`BpmnError` naming ``source`` and the line for malformed XML, a DTD or entity
    declaration, a document too large or too deep, or a root that is not BPMN ``definitions``.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_DIAGRAM_BYTES:
        raise BpmnError.single(
            source, f"diagram is {len(raw)} bytes; the limit is {MAX_DIAGRAM_BYTES} bytes"
        )
    if b"<!DOCTYPE" in raw[:4096].upper() or b"<!ENTITY" in raw.upper():
        raise BpmnError.single(source, "DTDs and entity declarations are not allowed in diagrams")
    try:
        root = etree.fromstring(raw, parser=hardened_parser())
    except etree.XMLSyntaxError as exc:
        line = int(exc.lineno) if isinstance(exc.lineno, int) else None
        raise BpmnError.single(source, f"malformed XML: {exc.msg}", line=line) from None
    if root is None:
        raise BpmnError.single(source, "empty document")
    if etree.QName(root).namespace != BPMN_NS or etree.QName(root).localname != "definitions":
        raise BpmnError.single(
            source,
            f"root element is <{etree.QName(root).localname}>; a BPMN 2.0 diagram starts with "
            f"<bpmn:definitions xmlns:bpmn=\"{BPMN_NS}\">",
            line=root.sourceline if isinstance(root.sourceline, int) else None,
        )
    _check_depth(root, source)
    return root


def _check_depth(root: etree._Element, source: str) -> None:
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BpmnError.single(
                source,
                f"elements nested deeper than {MAX_DEPTH} levels",
                line=element.sourceline if isinstance(element.sourceline, int) else None,
                element_id=element.get("id"),
            )
        stack.extend((child, depth + 1) for child in element)
