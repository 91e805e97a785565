"""Two people (or a person and a process) acting on the same lot or order at the same instant, on both
databases: the second sees what the first did. A lot never gives more than it holds, a hold is never
lost to a consumption that read the lot before it, a cancelled order is not started behind the
supervisor's back, and a running job order is not cancelled."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from mom.db import create_session_factory
from mom.db.equipment import get_equipment_by_path
from mom.db.materials import add_material_definition, change_lot_status, consume_lot, create_lot, get_lot_by_number
from mom.db.migrate import upgrade_database
from mom.db.orders import (
    change_job_order_status,
    change_production_order_status,
    create_production_order,
    dispatch_job_order,
    get_job_order,
    get_production_order,
    release_production_order,
)
from mom.db.transactions import writing
from mom.domain import DomainError, IllegalTransition, JobOrderStatus, LotStatus, ProductionOrderStatus
from mom.plant_setup import create_demo_plant


@pytest.fixture
def sessions(empty_database: Any) -> Iterator[sessionmaker[Session]]:
    upgrade_database(empty_database.url, connect_args=empty_database.connect_args)
    engine = empty_database.engine()
    factory = create_session_factory(engine)
    with writing(factory) as session:
        add_material_definition(session, code="STEEL", name="Steel", unit="kg")
        add_material_definition(session, code="BLANK", name="Blank", unit="pcs")
        create_lot(session, lot_number="S-1", material_code="STEEL", quantity=10)
        for number in ("B-1", "B-2"):
            create_lot(session, lot_number=number, material_code="BLANK", quantity=5)
    yield factory
    engine.dispose()


def _ids(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as session:
        return {n: get_lot_by_number(session, lot_number=n).id for n in ("S-1", "B-1", "B-2")}


def _at_once(factory: sessionmaker[Session], first: Callable[[Session], object],
             second: Callable[[Session], object]) -> object:
    """``first`` does its work and keeps its transaction open for a moment; ``second`` starts in
    that moment. Returns what ``second`` returned, or the error it raised."""
    done_its_work = threading.Event()
    outcome: list[object] = []

    def run_first() -> None:
        with writing(factory) as session:
            first(session)
            done_its_work.set()
            time.sleep(0.5)  # the second starts now, against a lot this transaction changed

    def run_second() -> None:
        done_its_work.wait(10)
        try:
            with writing(factory) as session:
                outcome.append(second(session))
        except (DomainError, IllegalTransition) as exc:
            outcome.append(exc)

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcome[0]


def test_two_consumptions_at_once_take_no_more_than_the_lot_holds(sessions: sessionmaker[Session]) -> None:
    ids = _ids(sessions)

    def take(into: str) -> Callable[[Session], object]:
        return lambda session: consume_lot(session, consumed_lot_id=ids["S-1"], produced_lot_id=ids[into],
                                           quantity=6, performed_by="press")

    refused = _at_once(sessions, take("B-1"), take("B-2"))
    assert isinstance(refused, DomainError) and "4 kg left" in str(refused), refused
    with sessions() as session:
        steel = get_lot_by_number(session, lot_number="S-1")
        assert steel.quantity == 4 and steel.status == LotStatus.AVAILABLE


def test_a_hold_is_not_lost_to_a_consumption_at_the_same_instant(sessions: sessionmaker[Session]) -> None:
    ids = _ids(sessions)
    refused = _at_once(
        sessions,
        lambda session: change_lot_status(session, lot_id=ids["S-1"], to=LotStatus.ON_HOLD, actor="sup",
                                          reason="supplier recall"),
        lambda session: consume_lot(session, consumed_lot_id=ids["S-1"], produced_lot_id=ids["B-1"], quantity=10,
                                    performed_by="press"))
    assert isinstance(refused, DomainError) and "on_hold" in str(refused), refused
    with sessions() as session:
        steel = get_lot_by_number(session, lot_number="S-1")
        assert steel.status == LotStatus.ON_HOLD and steel.quantity == 10


@pytest.fixture
def order_ids(sessions: sessionmaker[Session]) -> dict[str, int]:
    """PO-1 released, its press job dispatched to Press1."""
    with writing(sessions) as session:
        plant = create_demo_plant(session, site="Lyon", endpoints={"Press1": "opc.tcp://127.0.0.1:1",
                                                                   "Coater1": "opc.tcp://127.0.0.1:2"})
        press = get_equipment_by_path(session, path=plant.work_units["Press1"])
        order = create_production_order(session, order_number="PO-1", product_code="BRACKET", quantity=10,
                                        actor="erp")
        release_production_order(session, order_id=order.id, actor="sup")
        job = next(j for j in order.job_orders if j.sequence == 10)
        dispatch_job_order(session, job_order_id=job.id, work_unit_id=press.id, actor="sup")
        return {"order": order.id, "job": job.id}


def test_a_cancelled_order_is_not_started_by_a_process_at_the_same_instant(
        sessions: sessionmaker[Session], order_ids: dict[str, int]) -> None:
    refused = _at_once(
        sessions,
        lambda session: change_production_order_status(session, order_id=order_ids["order"],
                                                       to=ProductionOrderStatus.CANCELLED, actor="sup",
                                                       reason="customer withdrew"),
        lambda session: change_job_order_status(session, job_order_id=order_ids["job"], to=JobOrderStatus.RUNNING,
                                                actor="press"))
    assert isinstance(refused, IllegalTransition) and "cancelled" in str(refused), refused
    with sessions() as session:
        order = get_production_order(session, order_id=order_ids["order"])
        assert order.status == ProductionOrderStatus.CANCELLED
        assert {j.status for j in order.job_orders} == {JobOrderStatus.CANCELLED}


def test_a_running_job_order_is_not_cancelled_with_its_order_at_the_same_instant(
        sessions: sessionmaker[Session], order_ids: dict[str, int]) -> None:
    refused = _at_once(
        sessions,
        lambda session: change_job_order_status(session, job_order_id=order_ids["job"], to=JobOrderStatus.RUNNING,
                                                actor="press"),
        lambda session: change_production_order_status(session, order_id=order_ids["order"],
                                                       to=ProductionOrderStatus.CANCELLED, actor="sup"))
    assert isinstance(refused, IllegalTransition) and "in_progress" in str(refused), refused
    with sessions() as session:
        order = get_production_order(session, order_id=order_ids["order"])
        assert order.status == ProductionOrderStatus.IN_PROGRESS
        assert get_job_order(session, job_order_id=order_ids["job"]).status == JobOrderStatus.RUNNING
