"""Declarative base, constraint naming and the column types shared by all tables."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

class ExactQuantity(sa.TypeDecorator[Decimal]):
    """NUMERIC(18, 6) read back as the Decimal that was written, on both databases.

    PostgreSQL keeps the decimal itself. SQLite keeps a double in a NUMERIC column, and SQLAlchemy
    reads it back with ``"%.6f"``, which shows the double's error (``999999999999.999`` came back
    as ``999999999999.999023``). Here the double is read with the 15 significant digits it holds
    exactly, so every amount within :func:`mom.domain.values.check_stored_amount` (15 digits) comes
    back unchanged. The column's DDL is the same NUMERIC(18, 6): no migration.
    """

    impl = sa.Numeric(18, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Numeric(18, 6, asdecimal=False))
        return dialect.type_descriptor(sa.Numeric(18, 6))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "sqlite" and isinstance(value, Decimal) and value.is_finite():
            return float(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, int):
            return Decimal(value).quantize(SCALE) if abs(value) < 10**20 else Decimal(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                return Decimal(str(value))
            exact = Decimal(f"{value:.15g}")
            return exact.quantize(SCALE) if abs(exact) < 10**20 else exact
        return Decimal(str(value))


SCALE = Decimal("0.000001")
QUANTITY = ExactQuantity()
"""Quantities of material: 12 integer digits, 6 decimals (exact up to 15 significant digits)."""


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone; PostgreSQL ``timestamptz`` does. Naive values are refused on write so a
    local wall-clock time can never be mistaken for UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(
                f"timestamp {value.isoformat()} has no time zone; pass an aware UTC time"
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def status_column_type(enum: type[StrEnum]) -> sa.Enum:
    """A status stored as its lowercase value in a VARCHAR(32) (no native enum to migrate)."""
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {
        datetime: UtcDateTime(),
        Decimal: QUANTITY,
        dict[str, Any]: sa.JSON(),
        list[str]: sa.JSON(),
    }
