"""The one hardened XML reader for diagrams: no entities, no DTD, no network, bounded size.

Before parsing, the text is decoded the way an XML parser would (byte-order mark, else the encoding
declaration, else UTF-8) and checked: no DOCTYPE anywhere in the prolog (however long its comments),
no entity declaration anywhere, whatever the encoding (a UTF-16 file hides ``<!ENTITY`` from a byte
search). The parser refuses them too (defence in depth). Lint, test-runs and deploy all read through
:func:`utf8_diagram`, so a file one accepts the others accept (a Latin-1 file is taken as Latin-1
and kept as UTF-8).
"""

from __future__ import annotations

import codecs
import re

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


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_NO_BOM = ((b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00?\x00", "utf-16-le"),
           (b"\x00<\x00?", "utf-16-be"))
_DECLARATION = re.compile(r"""^<\?xml\s[^>]*?\?>""")
_ENCODING = re.compile(r"""encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']""")
_UTF8 = ("utf-8", "utf8")


def _encoding_of(raw: bytes, source: str) -> tuple[str, int]:
    """The encoding of ``raw`` and the length of its byte-order mark (as XML 1.0 appendix F)."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name, len(bom)
    for start, name in _NO_BOM:
        if raw.startswith(start):
            return name, 0
    head = raw[:200].decode("ascii", errors="replace")
    declared = _DECLARATION.match(head)
    found = _ENCODING.search(declared.group(0)) if declared else None
    if found is None:
        return "utf-8", 0
    try:
        return codecs.lookup(found.group(1)).name, 0
    except LookupError:
        raise BpmnError.single(source, f"the XML declaration names encoding '{found.group(1)}', which is not "
                                       "known; save the diagram as UTF-8", line=1) from None


def diagram_text(data: bytes | str, source: str) -> str:
    """The diagram's text, decoded as an XML parser would, its declaration saying UTF-8 (so that
    ``text.encode("utf-8")`` is the same document)."""
    if isinstance(data, str):
        text = data.removeprefix("\ufeff")
    else:
        encoding, bom = _encoding_of(data, source)
        try:
            text = data[bom:].decode(encoding)
        except UnicodeDecodeError as exc:
            raise BpmnError.single(source, f"the file is not {encoding} as it declares ({exc.reason} at byte "
                                           f"{exc.start + bom})") from None
    declared = _DECLARATION.match(text)
    if declared and _ENCODING.search(declared.group(0)):
        text = _ENCODING.sub('encoding="UTF-8"', declared.group(0), count=1) + text[declared.end():]
    return text


def utf8_diagram(data: bytes | str, source: str) -> bytes:
    """The diagram as UTF-8 bytes: ``data`` itself when it is UTF-8 already (its hash unchanged)."""
    if isinstance(data, bytes):
        encoding, bom = _encoding_of(data, source)
        if encoding in _UTF8 and not bom:
            try:
                data.decode("utf-8")
                return data
            except UnicodeDecodeError as exc:
                raise BpmnError.single(source, f"the file is not UTF-8 ({exc.reason} at byte {exc.start}); "
                                               "save it as UTF-8 or declare its encoding") from None
    return diagram_text(data, source).encode("utf-8")


def _doctype_in_prolog(text: str) -> bool:
    """Is there a DOCTYPE before the root element (past any comments and processing instructions)?"""
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        end = {"<?": "?>", "<!--": "-->"}
        opening = next((o for o in end if text.startswith(o, at)), None)
        if opening is None:
            return text[at:at + 9].upper() == "<!DOCTYPE"
        closing = text.find(end[opening], at + len(opening))
        if closing < 0:
            return False  # unterminated: the parser names it
        at = closing + len(end[opening])


def _declares_dtd(text: str) -> bool:
    return _doctype_in_prolog(text) or re.search("<!ENTITY", text, re.IGNORECASE) is not None


def parse_diagram(data: bytes | str, source: str) -> etree._Element:
    """Parse diagram bytes into the root element of a BPMN ``definitions`` document.

    Raises :class:`BpmnError` naming ``source`` and the line for malformed XML, a DTD or entity
    declaration, a document too large or too deep, or a root that is not BPMN ``definitions``.
    """
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > MAX_DIAGRAM_BYTES:
        raise BpmnError.single(
            source, f"diagram is {size} bytes; the limit is {MAX_DIAGRAM_BYTES} bytes"
        )
    raw = utf8_diagram(data, source)
    if _declares_dtd(raw.decode("utf-8")):
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
