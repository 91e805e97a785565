"""Documents exchanged with ERP (ISA-95 part 2 / B2MML): schedules in, performance out.

These are plain values; reading and writing XML lives in ``mom.b2mml`` and storing them
in ``mom.db``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from mom.domain.values import Quantity


class MaterialUse(StrEnum):
    CONSUMED = "Consumed"
    PRODUCED = "Produced"
    CONSUMABLE = "Consumable"


@dataclass(frozen=True, slots=True)
class MaterialRequirement:
    material_code: str
    use: MaterialUse
    quantity: Quantity | None = None
    lot_number: str | None = None


@dataclass(frozen=True, slots=True)
class SegmentRequirement:
    """One operation of a production request (becomes a job order)."""

    id: str
    operation: str | None = None
    equipment: str | None = None
    earliest_start: datetime | None = None
    latest_end: datetime | None = None
    materials: tuple[MaterialRequirement, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProductionRequest:
    """An order from ERP: make ``quantity`` of ``product_code`` (becomes a production order)."""

    id: str
    product_code: str | None
    quantity: Quantity | None
    description: str | None = None
    priority: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    segments: tuple[SegmentRequirement, ...] = ()


@dataclass(frozen=True, slots=True)
class ProductionSchedule:
    id: str
    requests: tuple[ProductionRequest, ...]
    published_at: datetime | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class MaterialActual:
    material_code: str
    use: MaterialUse
    quantity: Quantity
    lot_number: str | None = None


@dataclass(frozen=True, slots=True)
class SegmentResponse:
    """What one job order actually did."""

    id: str
    operation: str | None = None
    equipment: str | None = None
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    materials: tuple[MaterialActual, ...] = ()


@dataclass(frozen=True, slots=True)
class ProductionResponse:
    """What one production order actually produced."""

    id: str
    production_request_id: str | None
    product_code: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    status: str | None = None
    segments: tuple[SegmentResponse, ...] = ()


@dataclass(frozen=True, slots=True)
class ProductionPerformance:
    id: str
    responses: tuple[ProductionResponse, ...]
    published_at: datetime | None = None
    location: str | None = None
