"""A small plant in the database: the data the reference processes run on (tests, ``mom demo``).

    Acme (enterprise) > SITE (site) > Fabrication (area)
        > PressLine (work center) > Press1 (work unit, OPC UA)
        > CoatLine  (work center) > Coater1 (work unit, OPC UA)

Materials: STEEL-SHEET (kg), PAINT (l), BRACKET-BLANK (pcs, made by pressing), BRACKET (pcs, the
product). Product BRACKET revision A: M-BOM 0.5 kg sheet per piece at operation 10, one blank and
0.02 l paint per piece at operation 20; routing 10 Press on PressLine (thickness 1.9..2.1 mm),
20 Coat on CoatLine (coating 20..30 um), with recipes for the simulated machines. The setpoints
the recipes set are bound with engineering limits (Press1 Pressure 1..10 bar, Coater1 Temperature
20..250 degC): machine tasks write no value outside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from mom.db.equipment import add_equipment, bind_node, set_opcua_endpoint
from mom.db.materials import add_material_definition, create_lot
from mom.db.products import BomLineSpec, OperationSpec, add_revision, create_product
from mom.domain import EquipmentLevel, LotStatus

PRODUCT = "BRACKET"
MACHINES = {"PressLine": "Press1", "CoatLine": "Coater1"}
PLANT_NAMESPACE = "urn:smart-mom:plant-sim"
SETPOINT_LIMITS = {"Press1": ("Pressure", 1.0, 10.0), "Coater1": ("Temperature", 20.0, 250.0)}
"""machine -> (setpoint, min, max): the engineering limits bound on the demo machines"""


@dataclass(frozen=True)
class DemoPlant:
    site: str
    product: str
    work_units: dict[str, str]  # machine name -> equipment path
    lots: dict[str, str]  # lot number -> status


def create_demo_plant(session: Session, *, site: str, endpoints: Mapping[str, str],
                      enterprise: str = "Acme") -> DemoPlant:
    """Create the plant; ``endpoints`` maps the machine names (Press1, Coater1) to the OPC UA
    endpoints of their servers. The caller commits."""
    missing = sorted(set(MACHINES.values()) - set(endpoints))
    if missing:
        raise ValueError(f"demo plant: endpoints lack machines {', '.join(missing)}")
    top = add_equipment(session, name=enterprise, level=EquipmentLevel.ENTERPRISE)
    site_node = add_equipment(session, name=site, level=EquipmentLevel.SITE, parent_id=top.id,
                              time_zone="Europe/Paris")
    area = add_equipment(session, name="Fabrication", level=EquipmentLevel.AREA, parent_id=site_node.id)
    units = {}
    for center_name, machine in MACHINES.items():
        center = add_equipment(session, name=center_name, level=EquipmentLevel.WORK_CENTER, parent_id=area.id)
        unit = add_equipment(session, name=machine, level=EquipmentLevel.WORK_UNIT, parent_id=center.id)
        set_opcua_endpoint(session, work_unit_id=unit.id, url=endpoints[machine])
        setpoint, low, high = SETPOINT_LIMITS[machine]
        bind_node(session, work_unit_id=unit.id, name=f"Setpoints.{setpoint}", access="read_write",
                  node_id=f"nsu={PLANT_NAMESPACE};s={machine}.Setpoints.{setpoint}", min_value=low, max_value=high)
        units[machine] = unit.path
    for code, name, unit_name in (("STEEL-SHEET", "Steel sheet 2 mm", "kg"), ("PAINT", "Powder paint", "l"),
                                  ("BRACKET-BLANK", "Pressed bracket blank", "pcs"),
                                  ("BRACKET", "Coated bracket", "pcs")):
        add_material_definition(session, code=code, name=name, unit=unit_name)
    lots = {"SHEET-001": ("STEEL-SHEET", 500, LotStatus.AVAILABLE),
            "SHEET-002": ("STEEL-SHEET", 500, LotStatus.ON_HOLD),
            "PAINT-001": ("PAINT", 20, LotStatus.AVAILABLE)}
    for number, (material, quantity, status) in lots.items():
        create_lot(session, lot_number=number, material_code=material, quantity=quantity, status=status)
    create_product(session, code=PRODUCT, name="Coated bracket", material_code="BRACKET")
    area_path = f"{enterprise}.{site}.Fabrication"
    add_revision(
        session, product_code=PRODUCT, revision="A", effective_from=datetime(2020, 1, 1, tzinfo=UTC),
        bom=(BomLineSpec(10, "STEEL-SHEET", "0.5", operation_sequence=10),
             BomLineSpec(20, "BRACKET-BLANK", 1, operation_sequence=20),
             BomLineSpec(30, "PAINT", "0.02", operation_sequence=20)),
        operations=(
            OperationSpec(10, "Press", f"{area_path}.PressLine", run_time_s=0.05, recipe_parameters={
                "recipe_id": "R-PRESS-2MM", "setpoints": {"Pressure": 5.5}, "run_time_s": 0.05,
                "output_material": "BRACKET-BLANK",
                "tolerances": {"thickness_mm": {"lower": 1.9, "upper": 2.1, "unit": "mm"}}}),
            OperationSpec(20, "Coat", f"{area_path}.CoatLine", run_time_s=0.05, recipe_parameters={
                "recipe_id": "R-COAT-25UM", "setpoints": {"Temperature": 180.0}, "run_time_s": 0.05,
                "tolerances": {"coating_um": {"lower": 20, "upper": 30, "unit": "um"}}}),
        ),
        change_note="first release",
    )
    session.flush()
    return DemoPlant(site=site, product=PRODUCT, work_units=units,
                     lots={number: status.value for number, (_, _, status) in lots.items()})


def revision_b(area: str, *, press_run_time_s: float = 0.05) -> dict[str, Any]:
    """Revision B of the demo bracket as PLM sends it in an ECO: thicker sheet, more pressing pressure
    (used by the demo shift and the engineering-change tests)."""
    return {"revision": "B", "change_note": "thicker sheet needs more pressure",
            "bom": [{"line": 10, "material": "STEEL-SHEET", "quantity": "0.55", "operation": 10},
                    {"line": 20, "material": "BRACKET-BLANK", "quantity": 1, "operation": 20},
                    {"line": 30, "material": "PAINT", "quantity": "0.02", "operation": 20}],
            "operations": [
                {"sequence": 10, "name": "Press", "work_center": f"{area}.PressLine", "run_time_s": press_run_time_s,
                 "recipe": {"recipe_id": "R-PRESS-2MM-B", "setpoints": {"Pressure": 6.5},
                            "run_time_s": press_run_time_s,
                            "output_material": "BRACKET-BLANK",
                            "tolerances": {"thickness_mm": {"lower": 1.9, "upper": 2.1, "unit": "mm"}}}},
                {"sequence": 20, "name": "Coat", "work_center": f"{area}.CoatLine", "run_time_s": 0.05,
                 "recipe": {"recipe_id": "R-COAT-25UM", "setpoints": {"Temperature": 180.0}, "run_time_s": 0.05,
                            "tolerances": {"coating_um": {"lower": 20, "upper": 30, "unit": "um"}}}}]}
