"""Bring diagrams saved by Camunda Modeler (zeebe flavour) to the expression dialect of the engine.

Conditions and expressions are Python. Camunda writes expressions with a leading ``=`` (FEEL
marker) and timers as bare ISO 8601 literals (``PT5M``); both are rewritten in place here before
SpiffWorkflow sees the document, so such diagrams run unchanged:

- ``=amount > 10`` becomes ``amount > 10``;
- a timer ``PT5M`` becomes the Python string literal ``"PT5M"``; a timer written as a Python
  expression (``"PT5M"`` or ``wait_time``) is left as it is.
"""

from __future__ import annotations

import re

from lxml import etree

from bpmn.xml import BPMN_NS, ZEEBE_NS

_NUM = r"\d+(\.\d+)?"
_DURATION = (
    rf"P(?!$)({_NUM}Y)?({_NUM}M)?({_NUM}W)?({_NUM}D)?"
    rf"(T(?=\d)({_NUM}H)?({_NUM}M)?({_NUM}S)?)?"
)
_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"
_CYCLE = rf"R\d*/(({_DATETIME})/)?{_DURATION}"
ISO_DURATION = re.compile(rf"^{_DURATION}$")
ISO_DATETIME = re.compile(rf"^{_DATETIME}$")
ISO_CYCLE = re.compile(rf"^{_CYCLE}$")

TIMER_TAGS = ("timeDuration", "timeDate", "timeCycle")
EXPRESSION_TAGS = ("conditionExpression", "loopCardinality", "completionCondition", "condition", "loopCondition")


def strip_feel_marker(expression: str) -> str:
    """``=x > 1`` -> ``x > 1``; anything else unchanged."""
    text = expression.strip()
    return text[1:].strip() if text.startswith("=") else text


def is_iso_timer_literal(text: str) -> bool:
    value = text.strip()
    return bool(
        ISO_DURATION.match(value) or ISO_DATETIME.match(value) or ISO_CYCLE.match(value)
    )


def timer_expression(text: str) -> str:
    """The Python expression for a timer definition's text (see module docstring)."""
    value = text.strip()
    if value.startswith("="):
        return strip_feel_marker(value)
    if is_iso_timer_literal(value):
        return repr(value).replace("'", '"')
    return value


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _child(parent: etree._Element, tag: str, attrs: dict[str, str] | None = None, text: str | None = None) -> None:
    node = etree.SubElement(parent, f"{{{BPMN_NS}}}{tag}", attrs or {})
    node.text = text


def zeebe_multi_instance(root: etree._Element) -> list[tuple[etree._Element, str]]:
    """Turn ``zeebe:loopCharacteristics`` (inputCollection, inputElement, outputCollection,
    outputElement) into the standard BPMN data references SpiffWorkflow reads. Returns the
    characteristics it could not translate, with the reason (the lint reports them)."""
    refused: list[tuple[etree._Element, str]] = []
    for zeebe in root.iter(f"{{{ZEEBE_NS}}}loopCharacteristics"):
        extension = zeebe.getparent()
        loop = extension.getparent() if extension is not None else None
        if loop is None or etree.QName(loop).localname != "multiInstanceLoopCharacteristics":
            continue
        collection = strip_feel_marker(zeebe.get("inputCollection", ""))
        element = zeebe.get("inputElement")
        output = zeebe.get("outputCollection")
        output_element = strip_feel_marker(zeebe.get("outputElement", "")) or None
        for value, what in ((collection, "inputCollection"), (output_element, "outputElement")):
            if value and not _NAME.match(value):
                refused.append((loop, f"zeebe:loopCharacteristics {what} must be a variable name, got {value!r}"))
        if refused:
            continue
        if collection:
            _child(loop, "loopDataInputRef", text=collection)
        if element:
            _child(loop, "inputDataItem", {"id": element, "name": element})
        if output:
            _child(loop, "loopDataOutputRef", text=output)
        if output_element:
            _child(loop, "outputDataItem", {"id": output_element, "name": output_element})
    return refused


def normalize_expressions(root: etree._Element) -> None:
    """Rewrite zeebe-flavoured expressions of the document in place (see module docstring)."""
    zeebe_multi_instance(root)
    for tag in EXPRESSION_TAGS:
        for element in root.iter(f"{{{BPMN_NS}}}{tag}"):
            if element.text:
                element.text = strip_feel_marker(element.text)
    for tag in TIMER_TAGS:
        for element in root.iter(f"{{{BPMN_NS}}}{tag}"):
            if element.text:
                element.text = timer_expression(element.text)


_SIMPLE_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?"
    r"(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def duration_seconds(text: str) -> float:
    """Seconds of an ISO 8601 duration of days/hours/minutes/seconds (``PT30S``, ``P1DT2H``).

    Plain numbers are taken as seconds. Raises ValueError naming the text otherwise.
    """
    value = text.strip().upper()
    try:
        return float(value)
    except ValueError:
        pass
    match = _SIMPLE_DURATION.match(value)
    if not match or value in ("P", "PT"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration like PT30S")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return (
        parts.get("days", 0) * 86400
        + parts.get("hours", 0) * 3600
        + parts.get("minutes", 0) * 60
        + parts.get("seconds", 0)
    )
