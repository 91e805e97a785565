"""Material definitions, lots and their genealogy."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import TEXT, AmountOut, Reason


class MaterialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    unit: str
    description: str | None


class SublotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sublot_number: str
    status: str
    quantity: AmountOut
    unit: str


class LotOut(BaseModel):
    lot_number: str
    material_code: str
    status: str
    quantity: AmountOut
    unit: str
    location_id: int | None
    created_at: datetime
    sublots: list[SublotOut]


class LotAction(BaseModel):
    reason: Reason = None


class RecallHoldIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500, pattern=TEXT, description="why the lot is suspect")


class RecallHoldOut(BaseModel):
    lot_number: str
    held: list[str] = Field(description="lots put on hold now: the suspect lot (when available) and every "
                                        "available lot made from it")
    left: dict[str, str] = Field(description="the other lots of the recall scope, with their status (consumed, "
                                             "scrapped, already on hold)")


class GenealogyStepOut(BaseModel):
    depth: int = Field(description="1: directly linked to the lot traced from")
    consumed_lot: str = Field(description="the lot that went in")
    produced_lot: str = Field(description="the lot it went into")
    quantity: AmountOut
    unit: str
    operation: str | None
    job_order_id: int | None
    work_unit_id: int | None
    performed_by: str
    at: datetime
