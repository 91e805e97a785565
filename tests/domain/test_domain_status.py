"""State machines refuse illegal moves and say which entity, id and states were involved."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from mom.domain import (
    DomainError,
    EquipmentLevel,
    IllegalTransition,
    JobOrderStatus,
    LotStatus,
    ProductionOrderStatus,
    Quantity,
    TaskStatus,
    check_transition,
    is_terminal,
)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (ProductionOrderStatus.RECEIVED, ProductionOrderStatus.IN_PROGRESS),
        (ProductionOrderStatus.COMPLETED, ProductionOrderStatus.IN_PROGRESS),
        (ProductionOrderStatus.CANCELLED, ProductionOrderStatus.RELEASED),
        (ProductionOrderStatus.CLOSED, ProductionOrderStatus.COMPLETED),
        (JobOrderStatus.PLANNED, JobOrderStatus.RUNNING),
        (JobOrderStatus.COMPLETED, JobOrderStatus.RUNNING),
        (JobOrderStatus.PAUSED, JobOrderStatus.COMPLETED),
        (JobOrderStatus.ABORTED, JobOrderStatus.PLANNED),
        (LotStatus.CONSUMED, LotStatus.AVAILABLE),
        (LotStatus.SCRAPPED, LotStatus.AVAILABLE),
        (LotStatus.ON_HOLD, LotStatus.CONSUMED),
        (TaskStatus.COMPLETED, TaskStatus.OPEN),
    ],
)
def test_illegal_transitions_are_refused(current: object, target: object) -> None:
    with pytest.raises(IllegalTransition) as raised:
        check_transition(current, target, entity_id="X-1")  # type: ignore[type-var]
    error = raised.value
    assert error.entity_id == "X-1"
    assert error.from_state == current.value  # type: ignore[attr-defined]
    assert error.to_state == target.value  # type: ignore[attr-defined]
    assert f"'{current.value}'" in str(error) and f"'{target.value}'" in str(error)  # type: ignore[attr-defined]


def test_error_names_the_entity_and_the_moves_that_exist() -> None:
    with pytest.raises(IllegalTransition) as raised:
        check_transition(JobOrderStatus.PLANNED, JobOrderStatus.RUNNING, entity_id="PO-7/20")
    message = str(raised.value)
    assert message.startswith("job order PO-7/20: cannot go from 'planned' to 'running'")
    assert "cancelled, dispatched" in message
    with pytest.raises(IllegalTransition, match=r"^lot L-1: .*none \(final state\)"):
        check_transition(LotStatus.CONSUMED, LotStatus.AVAILABLE, entity_id="L-1")
    with pytest.raises(IllegalTransition, match=r"^production order PO-1"):
        check_transition(ProductionOrderStatus.RECEIVED, ProductionOrderStatus.COMPLETED, entity_id="PO-1")


def test_the_normal_life_of_orders_and_lots_is_allowed() -> None:
    path = [
        ProductionOrderStatus.RECEIVED,
        ProductionOrderStatus.RELEASED,
        ProductionOrderStatus.IN_PROGRESS,
        ProductionOrderStatus.HELD,
        ProductionOrderStatus.IN_PROGRESS,
        ProductionOrderStatus.COMPLETED,
        ProductionOrderStatus.CLOSED,
    ]
    for current, target in itertools.pairwise(path):
        assert check_transition(current, target, entity_id="PO") is target
    jobs = [
        JobOrderStatus.PLANNED,
        JobOrderStatus.DISPATCHED,
        JobOrderStatus.RUNNING,
        JobOrderStatus.PAUSED,
        JobOrderStatus.RUNNING,
        JobOrderStatus.COMPLETED,
    ]
    for current, target in itertools.pairwise(jobs):
        check_transition(current, target, entity_id="JO")
    check_transition(LotStatus.AVAILABLE, LotStatus.ON_HOLD, entity_id="L")
    check_transition(LotStatus.ON_HOLD, LotStatus.AVAILABLE, entity_id="L")
    assert is_terminal(JobOrderStatus.COMPLETED) and not is_terminal(JobOrderStatus.PAUSED)


def test_mixing_state_machines_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        check_transition(LotStatus.AVAILABLE, TaskStatus.OPEN, entity_id=1)  # type: ignore[type-var]


def test_equipment_levels_know_their_parent() -> None:
    assert EquipmentLevel.ENTERPRISE.parent_level is None
    assert EquipmentLevel.WORK_UNIT.parent_level is EquipmentLevel.WORK_CENTER
    assert EquipmentLevel.SITE.parent_level is EquipmentLevel.ENTERPRISE


def test_quantities_keep_decimals_and_refuse_mixed_units() -> None:
    total = Quantity.of("0.1", "kg") + Quantity.of(0.2, "kg")
    assert total.amount == Decimal("0.3") and str(total) == "0.3 kg"
    with pytest.raises(DomainError, match="units differ"):
        Quantity.of(1, "kg") + Quantity.of(1, "pcs")
    with pytest.raises(DomainError, match="not a number"):
        Quantity.of("ten", "kg")
    with pytest.raises(DomainError, match="unit of measure"):
        Quantity.of(1, " ")
