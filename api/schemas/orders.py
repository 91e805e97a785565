"""Production orders (from ERP) and their job orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import NUMBER, TEXT, Amount, AmountOut, Reason, UtcTime


class OrderCreate(BaseModel):
    order_number: str = Field(pattern=NUMBER)
    product_code: str = Field(min_length=1, max_length=100, pattern=TEXT)
    quantity: Amount
    unit: str | None = Field(default=None, min_length=1, max_length=20, pattern=TEXT,
                             description="default: the product's unit")
    due_at: UtcTime | None = None
    priority: int = Field(default=0, ge=-1000, le=1000)
    explode: bool = Field(default=True, description="one job order per routing operation of the effective revision")


class QuantityChange(BaseModel):
    quantity: Amount
    reason: Reason = None


class OrderAction(BaseModel):
    reason: Reason = None


class JobOrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sequence: int
    operation: str
    status: str
    quantity: AmountOut
    good_quantity: AmountOut
    scrap_quantity: AmountOut
    work_center_id: int | None
    work_unit_id: int | None
    planned_start: datetime | None
    planned_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    parameters: dict[str, Any]


class OrderOut(BaseModel):
    id: int
    order_number: str
    product_code: str
    revision: str | None
    quantity: AmountOut
    unit: str
    status: str
    priority: int
    due_at: datetime | None
    source: str
    created_at: datetime
    updated_at: datetime
    job_orders: list[JobOrderOut]


class ScheduleImportOut(BaseModel):
    schedule_id: str | None
    orders: list[OrderOut]
