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
