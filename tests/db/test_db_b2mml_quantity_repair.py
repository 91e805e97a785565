"""Migration 0008 (J.9): order quantities SQLite stored before the bounds and cannot read back
(infinity, 1e19) become 0 with an audit entry, so that the orders list answers again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from api.routers.orders import orders_out
from mom.db import create_database_engine, create_session_factory
from mom.db.audit import list_audit_entries
from mom.db.migrate import alembic_config, upgrade_database
from mom.db.orders import create_production_order, list_production_orders
from mom.db.products import create_product
from mom.db.transactions import writing


def test_quantities_out_of_range_are_set_to_zero_and_audited(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mom.db'}"
    upgrade_database(url, actor="pytest")
    engine = create_database_engine(url)
    sessions = create_session_factory(engine)
    try:
        with writing(sessions) as session:
            create_product(session, code="BRK", name="Bracket")
            for number in ("PO-INF", "PO-BIG", "PO-OK"):
                create_production_order(session, order_number=number, product_code="BRK", quantity=5, actor="erp",
                                        explode=False, due_at=datetime(2026, 3, 5, tzinfo=UTC))
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0007_task_signature")
            connection.exec_driver_sql("UPDATE production_orders SET quantity = 9e999 WHERE order_number = 'PO-INF'")
            connection.exec_driver_sql("UPDATE production_orders SET quantity = 1.2345678901234567e19 "
                                       "WHERE order_number = 'PO-BIG'")
        upgrade_database(url, actor="pytest")
        with writing(sessions) as session:
            orders, _ = list_production_orders(session)
            shown = {o.order_number: o.quantity for o in orders_out(session, orders)}
            assert shown == {"PO-INF": 0, "PO-BIG": 0, "PO-OK": 5}
            entries, _ = list_audit_entries(session, action="production_order.repaired")
            assert {e.entity_id: e.details["stored"] for e in entries} == {
                "PO-INF": {f"production_orders.{orders[0].id}.quantity": "Inf"},
                "PO-BIG": {f"production_orders.{orders[1].id}.quantity": "1.23456789012346e+19"}}
        with engine.connect() as connection:
            zero = sa.text("SELECT count(*) FROM production_orders WHERE quantity = 0")
            assert connection.execute(zero).scalar() == 2
    finally:
        engine.dispose()
