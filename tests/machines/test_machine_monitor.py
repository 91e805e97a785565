"""The machine monitor against a real simulated machine and a SQLite database: states, counters
and alarms recorded in batches, correlated messages, exception processes started by rule."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.opcua import SessionOptions, SessionPool
from mom.db import create_database_engine, create_session_factory
from mom.db.equipment import add_equipment, set_opcua_endpoint
from mom.db.events import list_machine_events
from mom.db.migrate import upgrade_engine
from mom.domain import EquipmentLevel, MachineEventKind
from mom.monitoring.monitor import MachineMonitor, load_monitored_units
from mom.monitoring.recorder import EventRecorder
from mom.monitoring.rules import ExceptionStart, MonitorRules, Observation, parse_rule
from mom.plant.job_order import Recipe

OPTIONS = SessionOptions(request_timeout_s=2.0, health_check_s=0.3, reconnect_wait_s=2.0, reconnect_max_delay_s=0.5)
AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def test_rules_correlate_job_ends_and_alarms_and_pick_the_exception_process():
    rules = MonitorRules({"JAM": "machine_breakdown"})
    ended = Observation(7, "Acme.Lyon.Press.Line1.Press1", MachineEventKind.COUNTER, "JobStatus", AT,
                        {"job_id": "J1", "job_status": "Ended", "good_count": 5})
    assert [(m.name, m.correlation_key) for m in rules.messages(ended)] == [("job_completed", "J1")]
    alarm = Observation(7, "Acme.Lyon.Press.Line1.Press1", MachineEventKind.ALARM, "JAM", AT,
                        {"active": True, "job_id": "J2"}, severity=800)
    assert [(m.name, m.correlation_key) for m in rules.messages(alarm)] == [("machine_alarm", "J2")]
    start = rules.exception(alarm)
    assert start is not None and start.process_id == "machine_breakdown"
    assert start.business_key == "Press1-JAM-20250301T080000000000"
    assert start.variables["job_id"] == "J2" and start.variables["work_unit_id"] == 7
    cleared = Observation(7, "P", MachineEventKind.ALARM, "JAM", AT, {"active": False, "job_id": "J2"})
    assert rules.exception(cleared) is None and rules.messages(cleared) == []
    assert rules.exception(Observation(7, "P", MachineEventKind.ALARM, "TEMP_HIGH", AT, {"active": True})) is None
    assert parse_rule("JAM=machine_breakdown") == ("JAM", "machine_breakdown")
    with pytest.raises(ValueError, match="expected ALARM_CODE=PROCESS_ID"):
        parse_rule("JAM")


@pytest.fixture
def database(tmp_path: Path) -> Any:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'mom.db'}")
    upgrade_engine(engine)
    yield create_session_factory(engine)
    engine.dispose()


def configure_plant(sessions: Any, endpoints: dict[str, str]) -> None:
    with sessions.begin() as session:
        parent = None
        for name, level in (("Acme", EquipmentLevel.ENTERPRISE), ("Lyon", EquipmentLevel.SITE),
                            ("Pressing", EquipmentLevel.AREA), ("Line1", EquipmentLevel.WORK_CENTER)):
            parent = add_equipment(session, name=name, level=level, parent_id=parent.id if parent else None)
        assert parent is not None
        for name, url in endpoints.items():
            unit = add_equipment(session, name=name, level=EquipmentLevel.WORK_UNIT, parent_id=parent.id)
            set_opcua_endpoint(session, work_unit_id=unit.id, url=url, namespace_uri="urn:smart-mom:plant-sim")


async def until(predicate: Any, timeout_s: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_the_monitor_records_correlates_and_starts_the_breakdown_process(machine_server, database):
    press = await machine_server("Press1", mttr_s=1000.0)
    mill = await machine_server("Mill2")
    configure_plant(database, {"Press1": press.endpoint, "Mill2": mill.endpoint})
    with database() as session:
        units = load_monitored_units(session, under_path="Acme.Lyon")
    assert [u.path for u in units] == ["Acme.Lyon.Pressing.Line1.Mill2", "Acme.Lyon.Pressing.Line1.Press1"]
    assert units[1].machine == "nsu=urn:smart-mom:plant-sim;s=Press1"

    delivered: list[tuple[str, str, dict]] = []
    started: list[ExceptionStart] = []

    async def deliver(name: str, key: str, variables: dict) -> None:
        delivered.append((name, key, variables))

    async def start_exception(request: ExceptionStart) -> None:
        started.append(request)

    pool = SessionPool(OPTIONS)
    recorder = EventRecorder(database, flush_interval_s=0.2)
    monitor = MachineMonitor(units, sessions=pool, recorder=recorder, rules=MonitorRules({"JAM": "machine_breakdown"}),
                             deliver=deliver, start_exception=start_exception)
    try:
        async with monitor:
            await until(lambda: len(monitor.connected) == 2)
            press.machine.store("J1", Recipe("R1", 5))
            press.machine.start("J1")
            await until(lambda: any(d[0] == "job_completed" for d in delivered))
            await until(lambda: press.machine.state.label == "Idle")
            press.machine.store("J2", Recipe("R1", 10_000))
            press.machine.start("J2")
            await until(lambda: press.machine.state.label == "Execute")
            press.machine.fail_now("JAM")  # the alarm names J2 even if it beats the JobId notification
            await until(lambda: started and any(d[0] == "machine_alarm" for d in delivered))
            # state and alarm come on separate subscriptions: wait for the monitor to see the hold
            await until(lambda: monitor.last_state.get(units[1].work_unit_id) in ("Holding", "Held"))
    finally:
        await pool.close()

    completed = next(d for d in delivered if d[0] == "job_completed")
    assert completed[1] == "J1" and completed[2]["good_count"] == 5
    assert completed[2]["work_unit"] == "Acme.Lyon.Pressing.Line1.Press1"
    alarm = next(d for d in delivered if d[0] == "machine_alarm")
    assert alarm[1] == "J2" and alarm[2]["alarm_code"] == "JAM" and alarm[2]["severity"] == 800
    assert [(s.process_id, s.variables["job_id"]) for s in started] == [("machine_breakdown", "J2")]

    with database() as session:
        press_id = units[1].work_unit_id
        states, _ = list_machine_events(session, work_unit_id=press_id, kind=MachineEventKind.STATE, limit=500)
        alarms, _ = list_machine_events(session, work_unit_id=press_id, kind=MachineEventKind.ALARM)
        goods, _ = list_machine_events(session, work_unit_id=press_id, name="GoodCount", limit=500)
        mill_states, _ = list_machine_events(session, work_unit_id=units[0].work_unit_id)
    names = [e.name for e in reversed(states)]
    assert names[0] == "Idle" and "Execute" in names and names[-1] in ("Holding", "Held")
    assert [(a.name, a.severity, a.value["active"]) for a in alarms] == [("JAM", 800, True)]
    assert max(g.value["count"] for g in goods if g.value["job_id"] == "J1") == 5
    assert [e.name for e in mill_states if e.kind is MachineEventKind.STATE] == ["Idle"]
    assert recorder.batches < recorder.recorded  # written in batches, not one commit per event


def test_mom_monitor_command_refuses_bad_rules_and_an_empty_plant(tmp_path: Path, monkeypatch):
    import argparse

    from mom.cli import monitor as monitor_cli

    parser = argparse.ArgumentParser(prog="mom")
    monitor_cli.register(parser.add_subparsers())
    monkeypatch.setenv("MOM_DATA_DIR", str(tmp_path))
    assert monitor_cli.cmd_monitor(parser.parse_args(["monitor", "--rule", "JAM"])) == 2
    assert monitor_cli.cmd_monitor(parser.parse_args(["monitor", "--site", "Acme.Lyon", "--duration", "0"])) == 1


def test_mom_monitor_drift_option(tmp_path: Path, monkeypatch):
    import argparse

    from mom.cli import monitor as monitor_cli

    rule = monitor_cli.parse_drift("ToolWear:0.7:1.0")
    assert (rule.signal, rule.warn_at, rule.alarm_limit, rule.process_id) == (
        "ToolWear", 0.7, 1.0, "preventive_maintenance")
    parser = argparse.ArgumentParser(prog="mom")
    monitor_cli.register(parser.add_subparsers())
    monkeypatch.setenv("MOM_DATA_DIR", str(tmp_path))
    for bad in ("ToolWear", "ToolWear:high:1.0", "ToolWear:1.2:1.0"):
        assert monitor_cli.cmd_monitor(parser.parse_args(["monitor", "--drift", bad])) == 2
