"""Data functions for quality records: measurements and judgements against limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.audit import append_audit_entry
from mom.db.base import utcnow
from mom.db.models import QualityRecord
from mom.db.queries import page
from mom.domain import DomainError, QualityResult
from mom.domain.values import to_decimal


def judge(
    value: Decimal | None, lower_limit: Decimal | None, upper_limit: Decimal | None
) -> QualityResult:
    """Pass when the value lies within the limits given (inclusive)."""
    if value is None or (lower_limit is None and upper_limit is None):
        return QualityResult.NOT_EVALUATED
    if lower_limit is not None and value < lower_limit:
        return QualityResult.FAIL
    if upper_limit is not None and value > upper_limit:
        return QualityResult.FAIL
    return QualityResult.PASS


def record_quality_result(
    session: Session,
    *,
    characteristic: str,
    recorded_by: str,
    value_number: Decimal | int | str | None = None,
    value_text: str | None = None,
    unit: str | None = None,
    lower_limit: Decimal | int | str | None = None,
    upper_limit: Decimal | int | str | None = None,
    result: QualityResult | None = None,
    lot_id: int | None = None,
    job_order_id: int | None = None,
    work_unit_id: int | None = None,
    at: datetime | None = None,
) -> QualityRecord:
    """Store a measurement (judged against the limits unless ``result`` is given); audited."""
    if lot_id is None and job_order_id is None:
        raise DomainError(f"quality record {characteristic!r}: give a lot or a job order")
    if value_number is None and value_text is None and result is None:
        raise DomainError(f"quality record {characteristic!r}: give a value or a result")
    number = None if value_number is None else to_decimal(value_number, field=characteristic)
    low = None if lower_limit is None else to_decimal(lower_limit, field="lower_limit")
    high = None if upper_limit is None else to_decimal(upper_limit, field="upper_limit")
    record = QualityRecord(
        characteristic=characteristic,
        lot_id=lot_id,
        job_order_id=job_order_id,
        work_unit_id=work_unit_id,
        value_number=number,
        value_text=value_text,
        unit=unit,
        lower_limit=low,
        upper_limit=high,
        result=result or judge(number, low, high),
        recorded_by=recorded_by,
        recorded_at=at or utcnow(),
    )
    session.add(record)
    session.flush()
    append_audit_entry(
        session,
        actor=recorded_by,
        action="quality.recorded",
        entity_type="quality record",
        entity_id=record.id,
        details={
            "characteristic": characteristic,
            "value": str(number) if number is not None else value_text,
            "result": record.result.value,
            "lot_id": lot_id,
            "job_order_id": job_order_id,
        },
        at=record.recorded_at,
    )
    return record


def list_quality_records(
    session: Session,
    *,
    lot_id: int | None = None,
    job_order_id: int | None = None,
    result: QualityResult | None = None,
    characteristic: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[Sequence[QualityRecord], int]:
    stmt = sa.select(QualityRecord)
    if lot_id is not None:
        stmt = stmt.where(QualityRecord.lot_id == lot_id)
    if job_order_id is not None:
        stmt = stmt.where(QualityRecord.job_order_id == job_order_id)
    if result is not None:
        stmt = stmt.where(QualityRecord.result == result)
    if characteristic is not None:
        stmt = stmt.where(QualityRecord.characteristic == characteristic)
    stmt = stmt.order_by(QualityRecord.recorded_at.desc(), QualityRecord.id.desc())
    return page(session, stmt, offset=offset, limit=limit)
