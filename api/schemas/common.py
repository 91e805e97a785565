"""Types shared by the request schemas: timestamps and quantities the database can store."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, PlainSerializer

from mom.domain.values import AMOUNT_BOUNDS, amount_problem, format_amount

NUMBER = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$"
"""Order, lot and similar numbers: what ERP sends, no spaces."""
TEXT = r"^[^\x00]*$"
"""Free text: anything but NUL, which PostgreSQL cannot store."""


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is out of range once converted to UTC") from None


UtcTime = Annotated[AwareDatetime, AfterValidator(_to_utc),
                    Field(description="ISO 8601 with a time zone, e.g. 2026-03-02T06:00:00Z")]
Reason = Annotated[str | None, Field(default=None, max_length=500, pattern=TEXT,
                                     description="why (kept in the audit log)")]
def _storable(value: Decimal) -> Decimal:
    problem = amount_problem(value)
    if problem is not None:
        raise ValueError(f"'{value}' {problem}")
    return value


Amount = Annotated[Decimal, Field(gt=0, allow_inf_nan=False,
                                  description=f"a positive quantity: {AMOUNT_BOUNDS} (what both databases keep "
                                              "exactly)"),
                   AfterValidator(_storable)]
AmountOut = Annotated[Decimal, PlainSerializer(format_amount, return_type=str, when_used="json"),
                     Field(description="a decimal amount as a string, e.g. \"12.5\"")]
