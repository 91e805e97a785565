"""Two people (or two machines' processes) acting on the same lot at the same instant, on both
databases: the second sees what the first did, so a lot never gives more than it holds and a hold is
never lost to a consumption that read the lot before it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from mom.db import create_session_factory
from mom.db.materials import add_material_definition, change_lot_status, consume_lot, create_lot, get_lot_by_number
from mom.db.migrate import upgrade_database
from mom.db.transactions import writing
from mom.domain import DomainError, IllegalTransition, LotStatus


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
