"""Production orders exploded into job orders; state machines refuse illegal changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from mom.db.audit import list_audit_entries
from mom.db.errors import RecordConflict, RecordNotFound
from mom.db.orders import (
    change_job_order_status,
    change_production_order_status,
    create_production_order,
    dispatch_job_order,
    list_job_orders,
    list_production_orders,
)
from mom.db.products import OperationSpec, add_revision, effective_revision, end_revision
from mom.domain import DomainError, IllegalTransition, JobOrderStatus, ProductionOrderStatus


def test_order_is_exploded_from_the_effective_routing(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    order = create_production_order(session, order_number="PO-1", product_code="BRACKET", quantity=500, actor="erp")
    assert order.status == ProductionOrderStatus.RECEIVED and order.unit == "pcs"
    jobs = order.job_orders
    assert [(j.sequence, j.operation, j.status) for j in jobs] == [
        (10, "Blank", JobOrderStatus.PLANNED),
        (20, "Form", JobOrderStatus.PLANNED),
    ]
    assert jobs[1].work_center_id == plant.work_center and jobs[1].parameters == {"force_kN": 120}
    entry = list_audit_entries(session, action="production_order.received")[0][0]
    assert entry.entity_id == "PO-1" and entry.details["job_orders"] == 2
    with pytest.raises(RecordConflict, match="production order 'PO-1' already exists"):
        create_production_order(session, order_number="PO-1", product_code="BRACKET", quantity=1, actor="erp")
    with pytest.raises(RecordNotFound, match="product 'NOPE'"):
        create_production_order(session, order_number="PO-2", product_code="NOPE", quantity=1, actor="erp")


def test_revision_effectivity(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    june = datetime(2026, 6, 1, tzinfo=UTC)
    with pytest.raises(RecordConflict, match="overlaps revision A"):
        add_revision(session, product_code="BRACKET", revision="B", effective_from=june)
    end_revision(session, product_code="BRACKET", revision="A", effective_to=june)
    add_revision(
        session,
        product_code="BRACKET",
        revision="B",
        effective_from=june,
        operations=[OperationSpec(10, "Laser cut", "Acme.Lyon.Pressing.PressLine")],
    )
    assert effective_revision(session, product_code="BRACKET", at=datetime(2026, 5, 31, tzinfo=UTC)).revision == "A"
    assert effective_revision(session, product_code="BRACKET", at=june).revision == "B"
    order = create_production_order(
        session, order_number="PO-B", product_code="BRACKET", quantity=5, actor="erp", revision_at=june
    )
    assert [j.operation for j in order.job_orders] == ["Laser cut"]
    end_revision(session, product_code="BRACKET", revision="B", effective_to=datetime(2030, 1, 1, tzinfo=UTC))
    with pytest.raises(DomainError, match="is a work_unit, not a work center"):
        add_revision(
            session,
            product_code="BRACKET",
            revision="C",
            effective_from=datetime(2030, 1, 1, tzinfo=UTC),
            operations=[OperationSpec(10, "X", "Acme.Lyon.Pressing.PressLine.Press1")],
        )


def test_job_orders_follow_their_state_machine(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    order = create_production_order(session, order_number="PO-7", product_code="BRACKET", quantity=10, actor="erp")
    blank, form = order.job_orders
    with pytest.raises(IllegalTransition) as refused:
        change_job_order_status(session, job_order_id=blank.id, to=JobOrderStatus.RUNNING, actor="op")
    assert (refused.value.entity, refused.value.entity_id) == ("job order", "PO-7/10")
    assert (refused.value.from_state, refused.value.to_state) == ("planned", "running")
    with pytest.raises(DomainError, match="release it before dispatching"):
        dispatch_job_order(session, job_order_id=blank.id, work_unit_id=plant.press1, actor="sup")
    change_production_order_status(session, order_id=order.id, to=ProductionOrderStatus.RELEASED, actor="sup")
    with pytest.raises(DomainError, match="is not a work unit"):
        dispatch_job_order(session, job_order_id=blank.id, work_unit_id=plant.work_center, actor="sup")
    dispatch_job_order(session, job_order_id=blank.id, work_unit_id=plant.press1, actor="sup")
    change_job_order_status(session, job_order_id=blank.id, to=JobOrderStatus.RUNNING, actor="op")
    assert order.status == ProductionOrderStatus.IN_PROGRESS and blank.actual_start is not None
    with pytest.raises(IllegalTransition, match="production order PO-7: cannot go from 'in_progress' to 'cancelled'"):
        change_production_order_status(session, order_id=order.id, to=ProductionOrderStatus.CANCELLED, actor="sup")
    change_production_order_status(
        session, order_id=order.id, to=ProductionOrderStatus.ABORTED, actor="sup", reason="die broke"
    )
    assert (blank.status, form.status) == (JobOrderStatus.ABORTED, JobOrderStatus.CANCELLED)
    assert blank.actual_end is not None
    with pytest.raises(IllegalTransition, match="none \\(final state\\)"):
        change_production_order_status(session, order_id=order.id, to=ProductionOrderStatus.RELEASED, actor="sup")
    history = list_audit_entries(session, entity_type="job order", entity_id="PO-7/10")[0]
    assert [e.details["to"] for e in reversed(history)] == ["dispatched", "running", "aborted"]


def test_listing_orders_and_jobs(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    for n, day in enumerate([5, 3, 4]):
        create_production_order(
            session,
            order_number=f"PO-L{n}",
            product_code="BRACKET",
            quantity=1,
            actor="erp",
            due_at=datetime(2026, 1, day, tzinfo=UTC),
        )
    orders, total = list_production_orders(session, status=ProductionOrderStatus.RECEIVED, limit=2)
    assert total == 3 and [o.order_number for o in orders] == ["PO-L1", "PO-L2"]
    early, total = list_production_orders(session, due_before=datetime(2026, 1, 4, tzinfo=UTC))
    assert total == 1 and early[0].order_number == "PO-L1"
    jobs, total = list_job_orders(session, work_center_id=plant.work_center, status=JobOrderStatus.PLANNED)
    assert total == 6 and len(jobs) == 6
    with pytest.raises(ValueError, match="limit must be between 1 and 1000"):
        list_job_orders(session, limit=0)
