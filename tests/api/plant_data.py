"""A small plant written straight into the API's database for the resource tests: equipment,
a product with a routing, lots linked by genealogy, machine events. Names carry a random tag so
tests sharing a session database never collide."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from api_client import ApiDatabase

from mom.db import create_database_engine, create_session_factory
from mom.db.equipment import add_equipment
from mom.db.events import record_machine_event
from mom.db.materials import add_material_definition, consume_lot, create_lot
from mom.db.products import OperationSpec, add_revision, create_product
from mom.db.transactions import writing
from mom.domain import EquipmentLevel, MachineEventKind

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Plant:
    tag: str
    enterprise_id: int
    work_center_id: int
    work_center_path: str
    press_id: int
    press_path: str
    product: str
    bare_product: str
    steel_lot: str
    blank_lot: str
    bracket_lot: str


def seed_plant(database: ApiDatabase) -> Plant:
    tag = secrets.token_hex(3).upper()
    engine = create_database_engine(database.url)
    try:
        with writing(create_session_factory(engine)) as session:
            acme = add_equipment(session, name=f"Acme{tag}", level=EquipmentLevel.ENTERPRISE)
            site = add_equipment(session, name="Lyon", level=EquipmentLevel.SITE, parent_id=acme.id)
            area = add_equipment(session, name="Pressing", level=EquipmentLevel.AREA, parent_id=site.id)
            line = add_equipment(session, name="PressLine", level=EquipmentLevel.WORK_CENTER, parent_id=area.id)
            press = add_equipment(session, name="Press1", level=EquipmentLevel.WORK_UNIT, parent_id=line.id)
            for code, unit in ((f"STEEL{tag}", "kg"), (f"BLANK{tag}", "pcs"), (f"BRK{tag}", "pcs")):
                add_material_definition(session, code=code, name=code, unit=unit)
            create_product(session, code=f"BRK{tag}", name="Bracket", material_code=f"BRK{tag}")
            add_revision(session, product_code=f"BRK{tag}", revision="A",
                         effective_from=datetime(2020, 1, 1, tzinfo=UTC),
                         operations=[OperationSpec(10, "Blank", line.path), OperationSpec(20, "Form", line.path)])
            create_product(session, code=f"BARE{tag}", name="No routing yet")
            steel = create_lot(session, lot_number=f"S-{tag}", material_code=f"STEEL{tag}", quantity=100)
            blank = create_lot(session, lot_number=f"BL-{tag}", material_code=f"BLANK{tag}", quantity=40)
            bracket = create_lot(session, lot_number=f"BR-{tag}", material_code=f"BRK{tag}", quantity=40)
            consume_lot(session, consumed_lot_id=steel.id, produced_lot_id=blank.id, quantity=10, performed_by="otto",
                        operation="Blank", work_unit_id=press.id, at=T0)
            consume_lot(session, consumed_lot_id=blank.id, produced_lot_id=bracket.id, quantity=40, performed_by="otto",
                        operation="Form", work_unit_id=press.id, at=T0)
            for minute, (kind, name) in enumerate([(MachineEventKind.STATE, "Execute"),
                                                   (MachineEventKind.ALARM, "E-STOP"),
                                                   (MachineEventKind.STATE, "Stopped")]):
                record_machine_event(session, work_unit_id=press.id, kind=kind, name=name,
                                     at=T0.replace(minute=minute), severity=900 if kind == "alarm" else None)
            return Plant(tag, acme.id, line.id, line.path, press.id, press.path, f"BRK{tag}", f"BARE{tag}",
                         steel.lot_number, blank.lot_number, bracket.lot_number)
    finally:
        engine.dispose()
