"""Ranges a value must be in before it is written to a machine.

A write leaves only when every number in it is finite (NaN and infinity never, whoever asks: a
process, an operator, ``mom opcua write``) and inside every range that applies: the node's own
EURange (the standard property of an AnalogItem, read from the server: the PLC's engineering
limits) and the ranges the caller brings (an equipment binding's limits, a recipe parameter's
limits). A machine that refuses a value itself (BadOutOfRange) is reported the same way.

Why checked by the writer and not only by the PLC: many PLCs take any Double into a setpoint;
what the MOM sends is its responsibility. The server's own refusal stays the last line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.opcua.errors import OpcUaError


@dataclass(frozen=True)
class Limit:
    """``low..high`` (either may be None: unbounded) and where the range comes from, e.g.
    ``EURange of ns=2;s=Press1.Setpoints.Pressure`` or ``binding Setpoints.Pressure of Press1``."""

    low: float | None
    high: float | None
    source: str

    def __str__(self) -> str:
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{low}..{high}"

    def holds(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str) -> Limit:
        """``{"min": 0, "max": 20, "source": "..."}`` (``low``/``high`` accepted too)."""
        low = data.get("min", data.get("low"))
        high = data.get("max", data.get("high"))
        return cls(_bound(low, source, "min"), _bound(high, source, "max"), str(data.get("source") or source))


def _bound(value: Any, source: str, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise ValueError(f"limit {name} of {source} must be a finite number, got {value!r}")
    return float(value)


def limits_of(data: Any, source: str) -> list[Limit]:
    """The limits given as one mapping or a list of mappings (as process data carries them)."""
    if data is None:
        return []
    items: Iterable[Any] = data if isinstance(data, list | tuple) else [data]
    limits = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ValueError(f"limits of {source} must be {{'min': x, 'max': y}} objects, got {item!r}")
        limits.append(Limit.from_mapping(item, source))
    return limits


class ValueOutOfRange(OpcUaError):
    """A value that is not finite or outside a range of the node: not written."""

    def __init__(self, endpoint: str, node: str, value: Any, limit: Limit | None, detail: str = "") -> None:
        if limit is None:
            what = detail or "is not a finite number (NaN and infinity are never written)"
        else:
            what = f"is outside {limit} ({limit.source})"
        super().__init__(endpoint, f"value {value!r} for node {node} {what}; nothing written")
        self.node = node
        self.value = value
        self.limit = limit
        self.detail = what


def numbers(value: Any) -> Iterator[float]:
    """The numbers in a scalar or array value (booleans are not numbers)."""
    if isinstance(value, list | tuple):
        for item in value:
            yield from numbers(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield value


def check(endpoint: str, node: str, value: Any, limits: Iterable[Limit]) -> None:
    """Raise :class:`ValueOutOfRange` unless every number in ``value`` is finite and in every limit."""
    ranges = list(limits)
    for number in numbers(value):
        try:
            finite = math.isfinite(number)
        except OverflowError:  # an int too large for a double
            finite = False
        if not finite:
            raise ValueOutOfRange(endpoint, node, value, None)
        for limit in ranges:
            if not limit.holds(number):
                raise ValueOutOfRange(endpoint, node, value, limit)
