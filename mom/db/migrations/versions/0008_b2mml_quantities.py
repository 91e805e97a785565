"""Order quantities SQLite took before J.9 and cannot give back (issue J.9): ``1e999999`` was stored
as infinity and ``12345678901234567890`` as a double far above the NUMERIC(18, 6) range; reading such
an order made ``GET /orders`` answer 500. PostgreSQL refused them at the time, so only SQLite can
hold them. Each such quantity of a production order or job order is set to 0 (there is no true value
to recover), with an audit entry naming the order and the stored value; a supervisor then gives the
order its real quantity (``POST /orders/{number}/quantity``). New values are bounded before they are
written (``mom.domain.values.check_stored_amount``). No schema change; nothing to undo.

Revision ID: 0008_b2mml_quantities
Revises: 0007_task_signature
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0008_b2mml_quantities"
down_revision: str | None = "0007_task_signature"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIMIT = 1e12
"""Exclusive bound of a stored quantity (``mom.domain.values.AMOUNT_LIMIT``)."""
OUT_OF_RANGE = "{column} >= :limit OR {column} <= -:limit OR typeof({column}) NOT IN ('integer', 'real')"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    from mom.db.audit import append_audit_entry

    repaired: dict[str, dict[str, str]] = {}
    for table, key in (("production_orders", "order_number"), ("job_orders", "production_order_id")):
        for column in ("quantity", "good_quantity", "scrap_quantity") if table == "job_orders" else ("quantity",):
            where = OUT_OF_RANGE.format(column=column)
            rows = bind.execute(sa.text(f"SELECT id, {key}, CAST({column} AS TEXT) FROM {table} WHERE {where}"),
                                {"limit": LIMIT}).all()
            for row_id, owner, stored in rows:
                number = owner if table == "production_orders" else bind.execute(
                    sa.text("SELECT order_number FROM production_orders WHERE id = :id"), {"id": owner}).scalar_one()
                repaired.setdefault(str(number), {})[f"{table}.{row_id}.{column}"] = str(stored)
                bind.execute(sa.text(f"UPDATE {table} SET {column} = 0 WHERE id = :id"), {"id": row_id})
    with Session(bind=bind) as session:
        for number, stored in sorted(repaired.items()):
            append_audit_entry(session, actor="migration 0008_b2mml_quantities", action="production_order.repaired",
                               entity_type="production order", entity_id=number,
                               reason="a quantity out of range was stored before J.9; set to 0, give the real one",
                               details={"stored": stored})
        session.flush()


def downgrade() -> None:
    """Nothing to undo: the values set to 0 had no true value."""
