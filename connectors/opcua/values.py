"""Typed values: turn a Python value (or a command-line string) into the Variant a node expects.

The expected type comes from the node's DataType and ValueRank (or a method's argument
description), so a write never changes a Double node into a String. Whether a number may be
written (finite, in range) is :mod:`connectors.opcua.limits`' business, checked by the session.
Values that do not fit raise :class:`TypeMismatch` saying what was expected; the session turns it into a
:class:`~connectors.opcua.errors.WrongType` naming endpoint and node.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asyncua import ua

_INT_RANGES: dict[ua.VariantType, tuple[int, int]] = {
    ua.VariantType.SByte: (-(2**7), 2**7 - 1),
    ua.VariantType.Byte: (0, 2**8 - 1),
    ua.VariantType.Int16: (-(2**15), 2**15 - 1),
    ua.VariantType.UInt16: (0, 2**16 - 1),
    ua.VariantType.Int32: (-(2**31), 2**31 - 1),
    ua.VariantType.UInt32: (0, 2**32 - 1),
    ua.VariantType.Int64: (-(2**63), 2**63 - 1),
    ua.VariantType.UInt64: (0, 2**64 - 1),
}
_FLOATS = (ua.VariantType.Float, ua.VariantType.Double)
_TEXT_TRUE = {"true", "1", "yes", "on"}
_TEXT_FALSE = {"false", "0", "no", "off"}


class TypeMismatch(ValueError):
    def __init__(self, expected: str, value: Any, detail: str = "") -> None:
        super().__init__(f"expected {expected}, got {value!r}{': ' + detail if detail else ''}")
        self.expected = expected
        self.value = value
        self.detail = detail


@dataclass(frozen=True)
class ValueType:
    """The type a node or argument takes: a built-in Variant type, scalar or array."""

    variant: ua.VariantType
    is_array: bool = False

    def __str__(self) -> str:
        return f"{self.variant.name}[]" if self.is_array else self.variant.name


def to_variant(value: Any, value_type: ValueType, *, from_text: bool = False) -> ua.Variant:
    """Convert ``value`` to ``value_type``; ``from_text`` parses strings (CLI input)."""
    if value_type.is_array:
        items = value
        if from_text and isinstance(value, str):
            try:
                items = json.loads(value)
            except json.JSONDecodeError as exc:
                raise TypeMismatch(str(value_type), value, f"not a JSON array ({exc})") from None
        if not isinstance(items, list | tuple):
            raise TypeMismatch(str(value_type), value, "an array is needed")
        scalar = ValueType(value_type.variant)
        converted = [_scalar(item, scalar, from_text=False) for item in items]
        return ua.Variant(converted, value_type.variant, is_array=True)
    return ua.Variant(_scalar(value, value_type, from_text=from_text), value_type.variant)


def _scalar(value: Any, value_type: ValueType, *, from_text: bool) -> Any:
    vt = value_type.variant
    expected = str(value_type)
    if vt is ua.VariantType.Variant:
        return value
    if vt is ua.VariantType.Boolean:
        if isinstance(value, bool):
            return value
        if from_text and isinstance(value, str) and value.lower() in _TEXT_TRUE | _TEXT_FALSE:
            return value.lower() in _TEXT_TRUE
        raise TypeMismatch(expected, value, "use true or false")
    if vt in _INT_RANGES:
        number = value
        if from_text and isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:
                raise TypeMismatch(expected, value, "not an integer") from None
        if not isinstance(number, int) or isinstance(number, bool):
            raise TypeMismatch(expected, value, "an integer is needed")
        low, high = _INT_RANGES[vt]
        if not low <= number <= high:
            raise TypeMismatch(expected, value, f"out of range {low}..{high}")
        return number
    if vt in _FLOATS:
        number = value
        if from_text and isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise TypeMismatch(expected, value, "not a number") from None
        if not isinstance(number, int | float) or isinstance(number, bool):
            raise TypeMismatch(expected, value, "a number is needed")
        try:
            return float(number)
        except OverflowError:  # an int beyond a double: as infinite, refused by the limits check
            return math.inf
    if vt is ua.VariantType.String:
        if isinstance(value, str):
            return value
        raise TypeMismatch(expected, value, "a string is needed")
    if vt is ua.VariantType.DateTime:
        if isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                raise TypeMismatch(expected, value, "not an ISO 8601 date-time") from None
        raise TypeMismatch(expected, value, "a date-time is needed")
    if vt is ua.VariantType.LocalizedText:
        if isinstance(value, str):
            return ua.LocalizedText(value)
        raise TypeMismatch(expected, value, "a string is needed")
    if vt is ua.VariantType.ByteString:
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode()
        raise TypeMismatch(expected, value, "bytes are needed")
    if vt is ua.VariantType.NodeId:
        if isinstance(value, ua.NodeId):
            return value
        if isinstance(value, str):
            try:
                return ua.NodeId.from_string(value)
            except (ValueError, ua.UaStringParsingError):
                raise TypeMismatch(expected, value, "not a node id") from None
        raise TypeMismatch(expected, value, "a node id is needed")
    raise TypeMismatch(expected, value, f"writing {vt.name} values is not supported yet")


def plain(value: Any) -> Any:
    """A JSON-friendly form of a value read from a server."""
    if isinstance(value, ua.Variant):
        return plain(value.Value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, ua.LocalizedText):
        return value.Text
    if isinstance(value, ua.QualifiedName):
        return f"{value.NamespaceIndex}:{value.Name}"
    if isinstance(value, ua.NodeId):
        return value.to_string()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, ua.StatusCode):
        return value.name
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
