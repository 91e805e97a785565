"""A plant with a day of machine history and orders in progress, for the dashboards test.

Press1 has two shifts on ``day`` (Paris time): early 06:00-14:00 and late 14:00-22:00, an ideal
cycle time of 10 s, and these states and counters (by hand, ISO 22400):

- early: Execute until 08:00, Held 08:00-09:00, Execute 09:00-13:00, Idle 13:00 -> APT 360 of
  480 min (availability 75.0 %); 1710 good + 90 bad -> performance 10 x 1800 / 21600 = 83.3 %,
  quality 95.0 %, OEE 59.4 %;
- late: Execute 14:00-18:00, Stopped 18:00 -> availability 50.0 %; the counter restarts with a new
  job at 500 good -> performance 10 x 500 / 14400 = 34.7 %, quality 100.0 %, OEE 17.4 %.

Now (a few minutes ago): Press1 in Execute, Coater1 Held with an active JAM alarm. Orders: PO-1
in progress (Press 60 of 100 done on Press1, Coat planned), PO-2 released (nothing done).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from mom.db.equipment import add_capability, add_shift, get_equipment_by_path
from mom.db.events import record_machine_event
from mom.db.orders import (
    change_job_order_status,
    change_production_order_status,
    create_production_order,
    dispatch_job_order,
    report_job_order_quantities,
)
from mom.domain import JobOrderStatus, MachineEventKind, ProductionOrderStatus
from mom.plant_setup import create_demo_plant

PARIS = ZoneInfo("Europe/Paris")
STATE, COUNTER, ALARM = MachineEventKind.STATE, MachineEventKind.COUNTER, MachineEventKind.ALARM


def history_day() -> date:
    """Yesterday in Paris: every event of the day is in the past, whenever the test runs."""
    return datetime.now(PARIS).date() - timedelta(days=1)


def seed_dashboard_plant(session: Session, day: date) -> None:
    plant = create_demo_plant(session, site="Lyon", endpoints={"Press1": "opc.tcp://127.0.0.1:1",
                                                               "Coater1": "opc.tcp://127.0.0.1:2"})
    press = get_equipment_by_path(session, path=plant.work_units["Press1"])
    coater = get_equipment_by_path(session, path=plant.work_units["Coater1"])
    add_shift(session, equipment_id=press.id, name="early", weekday=day.weekday(), starts=time(6), ends=time(14))
    add_shift(session, equipment_id=press.id, name="late", weekday=day.weekday(), starts=time(14), ends=time(22))
    add_capability(session, work_unit_id=press.id, name="press", parameters={"ideal_cycle_time_s": 10.0})

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)

    for when, state in ((at(5, 50), "Execute"), (at(8), "Held"), (at(9), "Execute"), (at(13), "Idle"),
                        (at(14), "Execute"), (at(18), "Stopped")):
        record_machine_event(session, work_unit_id=press.id, kind=STATE, name=state, at=when)
    for when, name, count in ((at(7), "GoodCount", 900), (at(12), "GoodCount", 1710), (at(12), "BadCount", 90),
                              (at(16), "GoodCount", 500)):
        record_machine_event(session, work_unit_id=press.id, kind=COUNTER, name=name, at=when,
                             value={"count": count})
    now = datetime.now(UTC) - timedelta(minutes=5)
    record_machine_event(session, work_unit_id=press.id, kind=STATE, name="Execute", at=now)
    record_machine_event(session, work_unit_id=press.id, kind=COUNTER, name="GoodCount", at=now, value={"count": 60})
    record_machine_event(session, work_unit_id=coater.id, kind=STATE, name="Held", at=now)
    record_machine_event(session, work_unit_id=coater.id, kind=ALARM, name="JAM", at=now, severity=700,
                         value={"active": True})

    first = create_production_order(session, order_number="PO-1", product_code="BRACKET", quantity=100, actor="pytest",
                                    due_at=datetime.now(UTC) + timedelta(hours=4))
    second = create_production_order(session, order_number="PO-2", product_code="BRACKET", quantity=40,
                                     actor="pytest", due_at=datetime.now(UTC) + timedelta(hours=8))
    for order in (first, second):
        change_production_order_status(session, order_id=order.id, to=ProductionOrderStatus.RELEASED, actor="pytest")
    press_job = next(j for j in first.job_orders if j.sequence == 10)
    dispatch_job_order(session, job_order_id=press_job.id, work_unit_id=press.id, actor="pytest")
    change_job_order_status(session, job_order_id=press_job.id, to=JobOrderStatus.RUNNING, actor="pytest")
    report_job_order_quantities(session, job_order_id=press_job.id, good=60, scrap=2)
