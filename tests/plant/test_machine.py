from __future__ import annotations

import pytest

from mom.plant.job_order import JobStatus, Recipe, RecipeError
from mom.plant.machine import (
    SETPOINT_NAMES,
    AlarmChanged,
    CommandRefused,
    JobStatusChanged,
    MachineConfig,
    SimulatedMachine,
    StateChanged,
)
from mom.plant.packml import PackMLState as S

R10 = Recipe("R1", 10, {"Pressure": 6.5})


def fast(name: str = "Press1", seed: int = 1, **config) -> SimulatedMachine:
    base = {"cycle_time_s": 1.0, "acting_time_s": 0.5, "mtbf_s": 0.0}
    return SimulatedMachine(MachineConfig(name=name, **{**base, **config}), seed=seed)


def run(machine: SimulatedMachine, seconds: float, step: float = 0.1) -> None:
    for _ in range(round(seconds / step)):
        machine.advance(step)


def test_a_job_makes_its_quantity_then_the_machine_resets_to_idle():
    m = fast()
    assert m.store("J1", R10).changed
    assert m.setpoints["Pressure"] == 6.5
    assert m.start("J1").job_status is JobStatus.RUNNING
    run(m, 30)
    assert m.job is not None and m.job.status is JobStatus.ENDED
    assert m.good_count == 10
    assert m.state is S.IDLE
    statuses = [e.status for e in m.drain_events() if isinstance(e, JobStatusChanged)]
    assert statuses == [JobStatus.ALLOWED_TO_START, JobStatus.RUNNING, JobStatus.ENDED]


def test_commands_are_idempotent_by_job_id():
    m = fast()
    assert m.store("J1", R10).changed
    assert not m.store("J1", R10).changed
    assert m.start("J1").changed
    assert not m.start("J1").changed
    run(m, 30)
    assert not m.start("J1").changed  # an ended job is not started again
    assert m.starts_accepted == 1


def test_same_job_id_with_another_recipe_is_a_conflict():
    m = fast()
    m.store("J1", R10)
    with pytest.raises(CommandRefused, match="JOB_CONFLICT: job J1 is already stored with recipe R1"):
        m.store("J1", Recipe("R2", 10))


def test_start_is_refused_on_a_held_or_aborted_machine():
    m = fast()
    m.store("J1", R10)
    m.start("J1")
    run(m, 1)
    m.pause("J1")
    run(m, 1)
    assert m.state is S.HELD and m.job is not None and m.job.status is JobStatus.INTERRUPTED
    assert not m.start("J1").changed  # duplicate Start of the same job: a no-op, not an error
    with pytest.raises(CommandRefused) as refused:
        m.store("J2", R10)
    assert refused.value.code == "MACHINE_HELD"
    m.abort("J1")
    run(m, 1)
    assert m.state is S.ABORTED and m.job.status is JobStatus.ABORTED
    with pytest.raises(CommandRefused) as refused:
        m.store("J2", R10)
    assert refused.value.code == "MACHINE_ABORTED"
    m.clear("J1")
    run(m, 1)
    assert m.state is S.STOPPED and m.job is None
    m.reset()
    run(m, 1)
    assert m.state is S.IDLE
    assert m.store("J2", R10).changed and m.start("J2").changed


def test_start_of_an_unknown_job_names_what_the_machine_holds():
    m = fast()
    m.store("J1", R10)
    with pytest.raises(CommandRefused, match="UNKNOWN_JOB: cannot start job J9 on machine Press1: it holds job J1"):
        m.start("J9")


def test_recipe_validation_names_the_field():
    with pytest.raises(RecipeError, match="setpoint 'Speed' is unknown; known: CycleTime, Temperature, Pressure"):
        Recipe.from_mapping({"recipe_id": "R", "quantity": 1, "setpoints": {"Speed": 1}}, SETPOINT_NAMES)
    with pytest.raises(RecipeError, match="'quantity' must be an integer >= 1"):
        Recipe.from_json('{"recipe_id": "R", "quantity": 0}', SETPOINT_NAMES)


def history(seed: int, step: float) -> list[tuple]:
    m = fast(seed=seed, cycle_time_s=0.5, mtbf_s=20.0, mttr_s=3.0, drift_window_s=8.0)
    m.store("J1", Recipe("R1", 200))
    m.start("J1")
    run(m, 200, step)
    out = []
    for e in m.drain_events():
        if isinstance(e, AlarmChanged):
            out.append((round(e.at, 6), e.code, e.active))
        elif isinstance(e, StateChanged):
            out.append((round(e.at, 6), e.state.label))
    return [*out, (m.good_count, m.bad_count)]


def test_same_seed_gives_the_same_plant_whatever_the_tick_size():
    assert history(7, 0.1) == history(7, 0.25)
    assert history(7, 0.1) != history(8, 0.1)


def test_breakdowns_raise_alarms_and_drift_warns_before_overtemp():
    m = fast(seed=3, cycle_time_s=0.5, mtbf_s=20.0, mttr_s=3.0, drift_window_s=8.0)
    m.store("J1", Recipe("R1", 500))
    m.start("J1")
    temperatures: list[tuple[float, float]] = []
    for _ in range(3000):
        m.advance(0.1)
        temperatures.append((m.clock, m.temperature))
    alarms = [e for e in m.drain_events() if isinstance(e, AlarmChanged)]
    raised = [a.code for a in alarms if a.active]
    assert "OVERTEMP" in raised
    first_overtemp = next(a for a in alarms if a.code == "OVERTEMP" and a.active)
    warning = next(a for a in alarms if a.code == "TEMP_HIGH" and a.active)
    assert warning.at < first_overtemp.at
    before = [t for at, t in temperatures if first_overtemp.at - 1.0 <= at < first_overtemp.at]
    normal = [t for at, t in temperatures if at < 5]
    assert min(before) > max(normal) + 20  # the signal drifted well above normal before the failure
    assert any(a.code == "OVERTEMP" and not a.active and a.at >= first_overtemp.at for a in alarms)  # repaired


def test_resume_is_refused_while_a_fault_is_active_then_accepted():
    m = fast(seed=3, cycle_time_s=0.5, mtbf_s=5.0, mttr_s=50.0, auto_resume=False)
    m.store("J1", Recipe("R1", 10_000))
    m.start("J1")
    while m.state is not S.HELD:
        m.advance(0.1)
        assert m.clock < 500, "no breakdown happened"
    with pytest.raises(CommandRefused) as refused:
        m.resume("J1")
    assert refused.value.code == "ALARM_ACTIVE"
    while m.active_alarms:
        m.advance(0.5)
    assert m.state is S.HELD  # no auto resume: an operator resumes
    assert m.resume("J1").changed


def test_the_machine_remembers_jobs_it_replaced_or_cleared():
    m = fast()
    m.store("J1", R10)
    m.start("J1")
    run(m, 30)
    m.store("J2", Recipe("R2", 3))
    ended = m.job_response("J1")
    assert ended is not None and (ended.status, ended.good_count) == (JobStatus.ENDED, 10)
    assert m.job_response("J2") is m.job and m.job_response("J0") is None
    m.stop("J2")  # never started: ended without parts
    m.clear("J2")
    assert m.job is None and m.job_response("J2") is not None
    assert m.job_response("J2").status is JobStatus.ENDED and m.job_response("J1") is ended
