"""Shared inputs of the scheduling tests: small instance files and a small plant."""

from __future__ import annotations

from pathlib import Path

import pytest

from mom.scheduling.model import (
    Downtime,
    Eligibility,
    JobOrder,
    RoutingOperation,
    SetupRule,
    ShopProblem,
    WorkUnit,
)

DATA = Path(__file__).parent / "instances"  # not "data/": .gitignore ignores that


@pytest.fixture
def data_dir() -> Path:
    return DATA


def op(op_id: str, *units: tuple[str, int], family: str = "", per_piece: float = 0.0) -> RoutingOperation:
    return RoutingOperation(
        op_id, tuple(Eligibility(u, d, per_piece) for u, d in units), setup_family=family
    )


@pytest.fixture
def plant() -> ShopProblem:
    """Three work units (a press line and two interchangeable mills), setups, a maintenance
    window, release and due dates."""
    units = (
        WorkUnit("PRESS"),
        WorkUnit("MILL1", downtimes=(Downtime(30, 45, "maintenance"),)),
        WorkUnit("MILL2"),
    )
    orders = (
        JobOrder("JO-1", (op("10", ("PRESS", 10), family="steel"),
                          op("20", ("MILL1", 12), ("MILL2", 15), family="steel")),
                 release=0, due=40, weight=2.0),
        JobOrder("JO-2", (op("10", ("PRESS", 8), family="alu"),
                          op("20", ("MILL1", 10), ("MILL2", 9), family="alu"),
                          op("30", ("PRESS", 5), family="alu")),
                 release=5, due=60),
        JobOrder("JO-3", (op("10", ("MILL2", 2, ), family="steel", per_piece=1.0),
                          op("20", ("PRESS", 6), family="steel")),
                 quantity=10, release=0, due=50),
        JobOrder("JO-4", (op("10", ("MILL1", 7), ("MILL2", 7), family="alu"),
                          op("20", ("PRESS", 9), family="alu")),
                 release=20, due=None),
    )  # fmt: skip
    setups = (
        SetupRule("steel", "alu", 4),
        SetupRule("alu", "steel", 3),
        SetupRule("alu", "steel", 6, work_unit="PRESS"),
    )
    return ShopProblem(job_orders=orders, work_units=units, setups=setups)
