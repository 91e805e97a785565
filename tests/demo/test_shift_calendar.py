"""The demo's OEE comes from the site's shift calendar: three shifts a day in the site's local time,
the part of the current shift before the simulated plant came up recorded as planned downtime, and
each shift counted over what elapsed of it (hand-computed figures)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from mom.db import create_database_engine, create_session_factory, upgrade_database
from mom.db.equipment import get_equipment_by_path
from mom.db.events import record_machine_event
from mom.demo.scenario import NOT_RUNNING_YET, install_shift_calendar
from mom.domain import MachineEventKind
from mom.oee import oee_by_shift, oee_for_shift_date
from mom.plant_setup import create_demo_plant

STARTED = datetime(2025, 3, 10, 14, 30, tzinfo=UTC)  # 15:30 in Lyon (UTC+1): the late shift began at 13:00 UTC


def minutes(n: float) -> datetime:
    return STARTED + timedelta(minutes=n)


def test_the_demo_plant_gets_a_calendar_and_its_shift_counts_from_when_it_came_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mom.db'}"
    upgrade_database(url)
    engine = create_database_engine(url)
    sessions = create_session_factory(engine)
    with sessions.begin() as session:
        layout = create_demo_plant(session, site="Lyon", endpoints={"Press1": "opc.tcp://x:1", "Coater1": "opc.tcp://x:2"})
        site_path = layout.work_units["Press1"].rsplit(".", 3)[0]
        install_shift_calendar(session, site_path=site_path, plant_started_at=STARTED)
        install_shift_calendar(session, site_path=site_path, plant_started_at=STARTED)  # a calendar is kept
        press = get_equipment_by_path(session, path=layout.work_units["Press1"])
        # Idle when the plant came up, Execute 10 min later for 20 min, Idle again; 100 parts, 4 bad
        for n, state in ((0, "Idle"), (10, "Execute"), (30, "Idle")):
            record_machine_event(session, work_unit_id=press.id, kind=MachineEventKind.STATE, name=state,
                                 at=minutes(n))
        for name, count in (("GoodCount", 96), ("BadCount", 4)):
            record_machine_event(session, work_unit_id=press.id, kind=MachineEventKind.COUNTER, name=name,
                                 at=minutes(29), value={"count": count})
    with sessions() as session:
        site = get_equipment_by_path(session, path=site_path)
        assert len(site.shifts) == 21 and {s.name for s in site.shifts} == {"early", "late", "night"}
        [downtime] = site.planned_downtimes  # the day before the plant came up: from the late shift of 9 March
        assert (downtime.reason, downtime.ends_at.replace(tzinfo=UTC)) == (NOT_RUNNING_YET, STARTED)
        assert downtime.starts_at.replace(tzinfo=UTC) == datetime(2025, 3, 9, 13, 0, tzinfo=UTC)
        [late] = oee_by_shift(session, starts_at=STARTED, ends_at=minutes(40), work_unit=press.path,
                              planned_run_time_s=6.0)
        by_date = oee_for_shift_date(session, shift_date=date(2025, 3, 10), work_unit=press.path, now=minutes(40))
        same = oee_by_shift(session, starts_at=STARTED, ends_at=minutes(40), work_unit=press.path)
    # ``mom oee`` on the demo's data: the early shift was not planned (the plant did not exist yet), the
    # late one as the summary says
    assert [f.shift for f in by_date] == ["early", "late"] and by_date[1] == same[0]
    assert by_date[0].planned_busy_time_s == 0 and by_date[0].availability is None
    engine.dispose()
    # the late shift from 13:00 UTC, clipped at 15:10 (what elapsed): 130 min - 90 min not running = 40 min
    assert (late.shift, late.starts_at, late.ends_at) == ("late", datetime(2025, 3, 10, 13, tzinfo=UTC), minutes(40))
    assert late.planned_busy_time_s == 40 * 60 and late.actual_production_time_s == 20 * 60
    assert late.availability == pytest.approx(0.5)  # 20 / 40 min
    assert late.effectiveness == pytest.approx(6.0 * 100 / 1200)  # 0.5
    assert late.quality_ratio == pytest.approx(0.96)
    assert late.oee == pytest.approx(0.5 * 0.5 * 0.96)
    assert late.down_by_state == {"Idle": 20 * 60.0}
