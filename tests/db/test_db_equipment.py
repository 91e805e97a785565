"""Equipment hierarchy, work unit bindings and calendars, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy.orm import Session

from mom.db.equipment import (
    add_capability,
    add_equipment,
    add_planned_downtime,
    add_shift,
    available_windows,
    bind_node,
    get_equipment_by_path,
    list_equipment,
    set_opcua_endpoint,
    work_units_with_capability,
)
from mom.db.errors import RecordConflict, RecordNotFound
from mom.domain import DomainError, EquipmentLevel


def test_hierarchy_levels_are_enforced(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError, match="level work_unit needs a parent of level work_center; found area"):
        add_equipment(session, name="Stray", level=EquipmentLevel.WORK_UNIT, parent_id=plant.area)
    with pytest.raises(DomainError, match="needs a parent of level enterprise; found no parent"):
        add_equipment(session, name="Orphan", level=EquipmentLevel.SITE)
    with pytest.raises(RecordConflict, match=r"Acme\.Lyon\.Pressing\.PressLine\.Press1"):
        add_equipment(session, name="Press1", level=EquipmentLevel.WORK_UNIT, parent_id=plant.work_center)
    with pytest.raises(RecordNotFound):
        get_equipment_by_path(session, path="Acme.Nowhere")


def test_list_equipment_filters_and_pages(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    units, total = list_equipment(session, level=EquipmentLevel.WORK_UNIT)
    assert total == 2 and [u.name for u in units] == ["Press1", "Press2"]
    below, total = list_equipment(session, under_path="Acme.Lyon", limit=2, offset=1)
    assert total == 4 and [e.name for e in below] == ["PressLine", "Press1"]


def test_work_unit_connectivity_and_capabilities(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    endpoint = set_opcua_endpoint(
        session, work_unit_id=plant.press1, url="opc.tcp://10.0.0.5:4840", namespace_uri="urn:p"
    )
    assert set_opcua_endpoint(session, work_unit_id=plant.press1, url="opc.tcp://h:1").id == endpoint.id
    bind_node(session, work_unit_id=plant.press1, name="state", node_id="nsu=urn:p;s=Press1.State")
    bind_node(session, work_unit_id=plant.press1, name="state", node_id="ns=2;s=Press1.State2")
    unit = get_equipment_by_path(session, path="Acme.Lyon.Pressing.PressLine.Press1")
    assert [(b.name, b.node_id) for b in unit.node_bindings] == [("state", "ns=2;s=Press1.State2")]
    assert unit.opcua_endpoint is not None and unit.opcua_endpoint.url == "opc.tcp://h:1"
    with pytest.raises(DomainError, match="standard string form"):
        bind_node(session, work_unit_id=plant.press1, name="x", node_id="Press1.State")
    with pytest.raises(DomainError, match="belong to a work unit"):
        set_opcua_endpoint(session, work_unit_id=plant.work_center, url="opc.tcp://h:1")
    add_capability(session, work_unit_id=plant.press2, name="press", parameters={"max_kN": 200})
    found = work_units_with_capability(session, capability="press", under_path="Acme.Lyon")
    assert [u.name for u in found] == ["Press2"]


def test_available_windows_are_shifts_minus_downtime_in_site_time(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    # Monday 2026-03-02, Paris is UTC+1: the 06:00-14:00 shift is 05:00-13:00 UTC
    add_shift(session, equipment_id=plant.press1, name="early", weekday=0, starts=time(6), ends=time(14))
    add_shift(session, equipment_id=plant.press1, name="night", weekday=0, starts=time(22), ends=time(6))
    add_planned_downtime(
        session,
        equipment_id=plant.press1,
        starts_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        ends_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
        reason="die change",
    )
    windows = available_windows(
        session,
        equipment_id=plant.press1,
        start=datetime(2026, 3, 2, tzinfo=UTC),
        end=datetime(2026, 3, 3, 12, tzinfo=UTC),
    )
    hours = [(a.strftime("%d %H"), b.strftime("%d %H")) for a, b in windows]
    assert hours == [("02 05", "02 09"), ("02 10", "02 13"), ("02 21", "03 05")]
    with pytest.raises(DomainError, match="unknown time zone"):
        add_equipment(
            session, name="Mars", level=EquipmentLevel.SITE, parent_id=plant.enterprise, time_zone="Mars/Base"
        )


def test_binding_limits_are_finite_and_ordered_and_reach_the_recipe(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    from mom.db.equipment import setpoint_limits

    node = "nsu=urn:p;s=Press1.Setpoints.Pressure"
    for low, high, words in ((9.0, 8.0, "min_value 9 is above max_value 8"),
                             (None, float("nan"), "max_value nan must be a finite number"),
                             (float("-inf"), None, "min_value -inf must be a finite number")):
        with pytest.raises(DomainError, match=words):
            bind_node(session, work_unit_id=plant.press1, name="Setpoints.Pressure", node_id=node,
                      min_value=low, max_value=high)
    bind_node(session, work_unit_id=plant.press1, name="Setpoints.Pressure", node_id=node, max_value=8.0)
    unit = get_equipment_by_path(session, path="Acme.Lyon.Pressing.PressLine.Press1")
    limits = setpoint_limits(unit, "R1", {"Pressure": 6.0, "Temperature": 60.0}, {"Pressure": {"min": 4, "max": 7}})
    assert limits == {"Pressure": [
        {"min": None, "max": 8.0, "source": "binding Setpoints.Pressure of Acme.Lyon.Pressing.PressLine.Press1"},
        {"min": 4, "max": 7, "source": "recipe R1 limits of Pressure"}]}


@pytest.mark.parametrize(("recipe", "words"), [
    ({"setpoints": {"Pressure": float("nan")}}, "Pressure = nan is not a finite number"),
    ({"setpoints": {"Pressure": 1e308}, "limits": {"Pressure": {"max": 8}}}, "Pressure = 1e[+]308 is outside"),
    ({"limits": {"Pressure": {"min": 9, "max": 8}}}, "min 9 is above max 8"),
])
def test_a_revision_with_a_setpoint_outside_its_recipe_limits_is_refused(  # type: ignore[no-untyped-def]
    session: Session, plant, recipe, words
) -> None:
    from mom.db.products import OperationSpec, add_revision

    with pytest.raises(DomainError, match=f"revision Z operation 10: recipe .*{words}"):
        add_revision(session, product_code="BRACKET", revision="Z", effective_from=datetime(2030, 1, 1, tzinfo=UTC),
                     operations=[OperationSpec(10, "Blank", "Acme.Lyon.Pressing.PressLine", 1, 1, recipe)])
