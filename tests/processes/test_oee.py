"""OEE (ISO 22400) on hand-computed numbers, from the database and the CLI; the drift early
warning on rules and, on the real stack, a tool wearing on the simulated press starting
preventive_maintenance before the breakdown."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from operators import complete, next_task
from support.plant_stack import Plant
from test_machine_breakdown import OPTIONS, deploy, running_instance

from connectors.opcua import SessionPool
from mom import instances
from mom.cli import oee as oee_cli
from mom.db.equipment import add_capability, add_planned_downtime, add_shift, get_equipment_by_path
from mom.db.events import record_machine_event
from mom.db.models import AuditEntry
from mom.domain import MachineEventKind
from mom.monitoring.drift import DriftMonitor, DriftRule, DriftWatch, slope_per_second
from mom.monitoring.monitor import exception_starter, load_monitored_units
from mom.oee import (
    CountReading,
    ShiftWindow,
    StateReading,
    count_increase,
    elapsed_part,
    oee_by_shift,
    oee_for_shift_date,
    oee_of_window,
    shift_windows_between,
)

T0 = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)  # a Monday


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_oee_of_a_shift_by_hand() -> None:
    # 8 h shift, 30 min planned break -> PBT 450 min. Execute 06:00-08:00 and 09:00-13:30 minus the
    # break 10:00-10:30 -> APT 120 + 240 = 360 min (Held 08:00-09:00 = 60 min, Idle after 13:30 = 30 min).
    window = ShiftWindow("early", at(0), at(480))
    states = [StateReading(at(-10), "Execute"), StateReading(at(120), "Held"), StateReading(at(180), "Execute"),
              StateReading(at(450), "Idle")]
    figures = oee_of_window(work_unit="Acme.P1", window=window, planned_downtimes=[(at(240), at(270))],
                            states=states, good=1710, bad=90, planned_run_time_per_item_s=10.0)
    assert figures.planned_busy_time_s == 450 * 60 and figures.actual_production_time_s == 360 * 60
    assert figures.availability == pytest.approx(0.8)  # 360 / 450
    assert figures.effectiveness == pytest.approx(10 * 1800 / (360 * 60))  # 0.8333
    assert figures.quality_ratio == pytest.approx(0.95)  # 1710 / 1800
    assert figures.oee == pytest.approx(0.8 * 0.8333333 * 0.95)
    assert figures.down_by_state == {"Held": 3600.0, "Idle": 1800.0}
    assert figures.actual_unit_down_time_s == 90 * 60


def test_unknown_start_and_no_ideal_cycle_time() -> None:
    window = ShiftWindow("s", at(0), at(100))
    figures = oee_of_window(work_unit="u", window=window, planned_downtimes=[],
                            states=[StateReading(at(40), "Execute")], good=0, bad=0, planned_run_time_per_item_s=None)
    assert figures.availability == pytest.approx(0.6) and figures.down_by_state == {"UNKNOWN": 2400.0}
    assert figures.effectiveness is None and figures.quality_ratio is None and figures.oee is None


def test_counters_restart_with_each_job() -> None:
    readings = [CountReading(at(1), 5), CountReading(at(2), 9), CountReading(at(3), 2), CountReading(at(4), 6),
                CountReading(at(200), 50)]
    assert count_increase(readings, at(0), at(100), before=CountReading(at(-1), 3)) == 2 + 4 + 2 + 4


def test_oee_from_the_database_and_the_cli(tmp_path, capsys) -> None:
    from mom.db import create_database_engine, create_session_factory, upgrade_database
    from mom.plant_setup import create_demo_plant

    url = f"sqlite:///{tmp_path / 'mom.db'}"
    upgrade_database(url)
    engine = create_database_engine(url)
    sessions = create_session_factory(engine)
    with sessions.begin() as session:
        layout = create_demo_plant(session, site="Lyon", endpoints={"Press1": "opc.tcp://x:1", "Coater1": "opc.tcp://x:2"})
        press = get_equipment_by_path(session, path=layout.work_units["Press1"])
        add_shift(session, equipment_id=press.id, name="early", weekday=0, starts=time(7), ends=time(15))  # Paris
        add_planned_downtime(session, equipment_id=press.id, starts_at=at(240), ends_at=at(270), reason="break")
        add_capability(session, work_unit_id=press.id, name="press", parameters={"ideal_cycle_time_s": 10.0})
        for minute, state in ((-10, "Execute"), (120, "Held"), (180, "Execute"), (450, "Idle")):
            record_machine_event(session, work_unit_id=press.id, kind=MachineEventKind.STATE, name=state, at=at(minute))
        for minute, name, count in ((-5, "GoodCount", 100), (60, "GoodCount", 700), (300, "GoodCount", 1810),
                                    (60, "BadCount", 40), (300, "BadCount", 90)):
            record_machine_event(session, work_unit_id=press.id, kind=MachineEventKind.COUNTER, name=name,
                                 at=at(minute), value={"count": count})
    with sessions() as session:
        [figures] = oee_for_shift_date(session, shift_date=date(2025, 3, 10), work_unit=layout.work_units["Press1"])
    engine.dispose()
    assert figures.starts_at == T0 and figures.good_quantity == 1710 and figures.produced_quantity == 1800
    assert figures.oee == pytest.approx(0.8 * (10 * 1800 / 21600) * 0.95)

    parser = argparse.ArgumentParser()
    oee_cli.register(parser.add_subparsers())
    args = parser.parse_args(["oee", "--shift-date", "2025-03-10", "--database-url", url, "--json"])
    assert args.func(args) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["shift"] == "early" and row["availability"] == pytest.approx(0.8)


def test_the_shifts_of_a_period_and_what_elapsed_of_them() -> None:
    from zoneinfo import ZoneInfo

    calendar = [("early", 0, time(6), time(14)), ("late", 0, time(14), time(22)), ("night", 0, time(22), time(6))]
    utc = ZoneInfo("UTC")
    windows = shift_windows_between(calendar, at(450), at(510), utc)  # Monday 13:30-14:30
    assert [(w.name, w.starts_at, w.ends_at) for w in windows] == [("early", at(0), at(480)),
                                                                  ("late", at(480), at(960))]
    assert elapsed_part(windows[1], at(510)) == ShiftWindow("late", at(480), at(510))
    assert elapsed_part(windows[0], at(510)) == windows[0] and elapsed_part(windows[1], at(480)) is None
    # Tuesday 01:00: Monday's night shift, begun the day before
    assert [(w.name, w.starts_at) for w in shift_windows_between(calendar, at(1140), at(1200), utc)] == [
        ("night", at(960))]


def test_oee_per_shift_of_the_site_calendar_clipped_to_what_elapsed(tmp_path) -> None:
    """Issue F: the shifts come from the calendar of the site (an ancestor of the press), the planned
    downtimes of the site are cut out, and the late shift, still running at 17:00, counts until then.

    Site Lyon (Paris, UTC+1 in March): early 07-15, late 15-23, night 23-07 local = 06-14, 14-22,
    22-06 UTC. Planned downtime of the site: 06:00-09:00 (the line was not staffed) and 16:00-16:30
    (break). Now: 17:00 UTC. Press1: Execute 09:00, Held 11:00, Execute 11:30, Idle 13:00,
    Execute 13:50, Idle 15:00. GoodCount 500 @10:10, 900 @12:40, 100 @13:55 (new job), 400 @14:50;
    BadCount 20 @12:40. Ideal cycle time 10 s.

    early: PBT = 480 - 180 = 300 min; APT = 120 + 90 + 10 = 220 min; GQ = 500 + 400 + 100 = 1000,
           PQ = 1020 -> A = 220/300, P = 10 x 1020 / 13200 s, Q = 1000/1020, OEE = 5/9.
    late:  elapsed 14:00-17:00 = 180 min - break 30 = PBT 150 min; APT = 60 min (14:00-15:00);
           GQ = 400 - 100 = 300, PQ = 300 -> A = 0.4, P = 3000/3600, Q = 1, OEE = 1/3.
    night: not begun at 17:00 -> no figures.
    """
    from mom.db import create_database_engine, create_session_factory, upgrade_database
    from mom.plant_setup import create_demo_plant

    url = f"sqlite:///{tmp_path / 'mom.db'}"
    upgrade_database(url)
    engine = create_database_engine(url)
    sessions = create_session_factory(engine)
    with sessions.begin() as session:
        layout = create_demo_plant(session, site="Lyon", endpoints={"Press1": "opc.tcp://x:1", "Coater1": "opc.tcp://x:2"})
        press = get_equipment_by_path(session, path=layout.work_units["Press1"])
        site = get_equipment_by_path(session, path=layout.work_units["Press1"].rsplit(".", 3)[0])
        for name, starts, ends in (("early", 7, 15), ("late", 15, 23), ("night", 23, 7)):
            add_shift(session, equipment_id=site.id, name=name, weekday=0, starts=time(starts), ends=time(ends))
        add_planned_downtime(session, equipment_id=site.id, starts_at=at(0), ends_at=at(180), reason="not staffed")
        add_planned_downtime(session, equipment_id=site.id, starts_at=at(600), ends_at=at(630), reason="break")
        add_capability(session, work_unit_id=press.id, name="press", parameters={"ideal_cycle_time_s": 10.0})
        for minute, state in ((180, "Execute"), (300, "Held"), (330, "Execute"), (420, "Idle"), (470, "Execute"),
                              (540, "Idle")):
            record_machine_event(session, work_unit_id=press.id, kind=MachineEventKind.STATE, name=state, at=at(minute))
        for minute, name, count in ((250, "GoodCount", 500), (400, "GoodCount", 900), (475, "GoodCount", 100),
                                    (530, "GoodCount", 400), (400, "BadCount", 20)):
            record_machine_event(session, work_unit_id=press.id, kind=MachineEventKind.COUNTER, name=name,
                                 at=at(minute), value={"count": count})
    with sessions() as session:
        early, late = oee_by_shift(session, starts_at=at(180), ends_at=at(660), work_unit=layout.work_units["Press1"])
        by_date = oee_for_shift_date(session, shift_date=date(2025, 3, 10), work_unit=layout.work_units["Press1"],
                                     now=at(660))
    engine.dispose()
    assert (early.shift, early.starts_at, early.ends_at) == ("early", at(0), at(480))
    assert early.planned_busy_time_s == 300 * 60 and early.actual_production_time_s == 220 * 60
    assert (early.good_quantity, early.produced_quantity) == (1000, 1020)
    assert early.availability == pytest.approx(220 / 300)
    assert early.effectiveness == pytest.approx(10 * 1020 / 13200)
    assert early.quality_ratio == pytest.approx(1000 / 1020)
    assert early.oee == pytest.approx(5 / 9)
    assert (late.shift, late.starts_at, late.ends_at) == ("late", at(480), at(660))
    assert late.planned_busy_time_s == 150 * 60 and late.actual_production_time_s == 60 * 60
    assert (late.good_quantity, late.produced_quantity) == (300, 300)
    assert late.availability == pytest.approx(0.4) and late.oee == pytest.approx(1 / 3)
    assert late.down_by_state == {"Idle": 90 * 60.0}
    assert by_date == [early, late]


def test_drift_warns_on_threshold_and_on_trend_once_per_episode() -> None:
    watch = DriftWatch(DriftRule(warn_at=0.7, alarm_limit=1.0, window=4, horizon_s=60, rearm_below=0.3))
    assert watch.observe(1, "A.P1", 0.2, at(0)) is None
    started = watch.observe(1, "A.P1", 0.75, at(1))
    assert started is not None and started.process_id == "preventive_maintenance"
    assert started.variables["machine"] == "P1" and "warning level" in started.variables["reason"]
    assert watch.observe(1, "A.P1", 0.8, at(2)) is None  # once per episode
    assert watch.observe(1, "A.P1", 0.1, at(3)) is None  # tool changed: re-armed
    seconds = [0, 10, 20, 30]  # 0.01/s from 0.3: reaches 1.0 in ~40 s, inside the 60 s horizon
    results = [watch.observe(1, "A.P1", 0.3 + 0.01 * s, at(4) + timedelta(seconds=s)) for s in seconds]
    assert results[:3] == [None, None, None] and results[3] is not None
    assert "trend" in results[3].variables["reason"] and results[3].variables["seconds_to_limit"] == pytest.approx(40)
    assert slope_per_second([(at(0), 1.0), (at(0) + timedelta(seconds=2), 2.0)]) == pytest.approx(0.5)
    slow = DriftWatch(DriftRule(window=3, horizon_s=10))
    assert all(slow.observe(2, "A.P2", 0.3 + 0.001 * s, at(0) + timedelta(seconds=s)) is None for s in range(5))


async def test_tool_wear_drift_starts_preventive_maintenance_before_the_breakdown(plant: Plant) -> None:
    deploy(plant, "preventive_maintenance")
    press = plant.machines["Press1"]
    press.machine.config = press.machine.config.__class__(**{**press.machine.config.__dict__, "wear_per_part": 0.02})
    with plant.sessions() as session:
        units = [u for u in load_monitored_units(session) if u.path.endswith(".Press1")]
    pool = SessionPool(OPTIONS)
    drift = DriftMonitor(units, sessions=pool, rule=DriftRule(warn_at=0.4, alarm_limit=0.9, horizon_s=5),
                         start_exception=exception_starter(plant.client, plant.store, task_queue=plant.task_queue))
    try:
        async with drift:
            from mom.plant.job_order import Recipe

            press.machine.store("WEAR-1", Recipe("R-PRESS-2MM", 100_000))
            press.machine.start("WEAR-1")
            wid = await running_instance(plant.client, "preventive_maintenance-Press1-ToolWear-")
            wear_when_started = press.machine.tool_wear_signal
            press.machine.stop("WEAR-1")  # (the press would wear on while a loaded machine reaches the task)
            assert wear_when_started < 0.9  # warned before the limit
            task = await next_task(plant.client, wid, "maintain")
    finally:
        await pool.close()
    assert task["candidate_groups"] == ["maintenance"]
    state = await instances.instance_state(plant.client, wid)
    assert 0 < state["variables"]["reading"]["ToolWear"] < 0.9  # read on the press by the edge worker
    assert state["variables"]["signal"] == "ToolWear" and state["variables"]["reason"]
    await complete(plant.client, wid, "maintain", {"tool_changed": True, "action_taken": "changed the punch"})
    result = await asyncio.wait_for(instances.wait_result(plant.client, wid), 90)
    assert result.status == "completed" and len(drift.started) == 1
    with plant.sessions() as session:
        closed = session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "maintenance.work_order_closed")).one()
    assert closed.details["action_taken"] == "changed the punch"
