"""The demo plant of a shift: :func:`mom.plant_setup.create_demo_plant` (Press1, Coater1) plus more
presses and coaters on the same lines, stock for dozens of orders, and the shift's orders received
from ERP and dispatched round-robin over the machines (the planner's job before the shift).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mom.db import execution
from mom.db.equipment import add_equipment, get_equipment_by_path, set_opcua_endpoint
from mom.db.materials import create_lot
from mom.db.orders import create_production_order
from mom.domain import EquipmentLevel, LotStatus
from mom.plant_setup import PRODUCT, create_demo_plant

LINES = {"Press": "PressLine", "Coater": "CoatLine"}
SHEET_LOT, PAINT_LOT = "SHEET-100", "PAINT-100"


@dataclass(frozen=True)
class ShiftPlant:
    site: str
    product: str
    area: str
    work_units: dict[str, str]  # machine name -> equipment path
    presses: tuple[str, ...]
    coaters: tuple[str, ...]
    stock: dict[str, str]  # material code -> lot number the operators take from


def machine_names(machines: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Presses and coaters for ``machines`` machines (at least one of each), e.g. 5 -> 3 + 2."""
    count = max(2, machines)
    presses = tuple(f"Press{i}" for i in range(1, (count + 1) // 2 + 1))
    coaters = tuple(f"Coater{i}" for i in range(1, count // 2 + 1))
    return presses, coaters


def create_shift_plant(session: Session, *, site: str, endpoints: Mapping[str, str]) -> ShiftPlant:
    """The demo plant with every machine of ``endpoints`` (names from :func:`machine_names`) bound
    to its OPC UA endpoint, and large stock lots. The caller commits."""
    layout = create_demo_plant(session, site=site, endpoints=endpoints)
    area = layout.work_units["Press1"].rsplit(".", 2)[0]
    units = dict(layout.work_units)
    for name, url in sorted(endpoints.items()):
        if name in units:
            continue
        kind = name.rstrip("0123456789")
        if kind not in LINES:
            raise ValueError(f"demo plant: machine {name!r} is neither a Press nor a Coater (e.g. Press2, Coater2)")
        line = get_equipment_by_path(session, path=f"{area}.{LINES[kind]}")
        unit = add_equipment(session, name=name, level=EquipmentLevel.WORK_UNIT, parent_id=line.id)
        set_opcua_endpoint(session, work_unit_id=unit.id, url=url)
        units[name] = unit.path
    create_lot(session, lot_number=SHEET_LOT, material_code="STEEL-SHEET", quantity=100_000,
               status=LotStatus.AVAILABLE)
    create_lot(session, lot_number=PAINT_LOT, material_code="PAINT", quantity=10_000, status=LotStatus.AVAILABLE)
    session.flush()
    presses = tuple(sorted((n for n in units if n.startswith("Press")), key=_index))
    coaters = tuple(sorted((n for n in units if n.startswith("Coater")), key=_index))
    return ShiftPlant(site=site, product=PRODUCT, area=area, work_units=units, presses=presses, coaters=coaters,
                      stock={"STEEL-SHEET": SHEET_LOT, "PAINT": PAINT_LOT})


def _index(name: str) -> int:
    return int(name.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") or 0)


def receive_orders(session: Session, plant: ShiftPlant, quantities: Sequence[int], *,
                   prefix: str = "PO") -> list[str]:
    """The shift's orders as ERP sends them, released and dispatched round-robin (order i on the
    i-th press and the i-th coater). Returns the order numbers. The caller commits."""
    numbers = []
    for i, quantity in enumerate(quantities):
        number = f"{prefix}-{i + 1:04d}"
        create_production_order(session, order_number=number, product_code=plant.product, quantity=quantity,
                                actor="erp")
        execution.release_order(session, order_number=number, actor="erp")
        press, coater = plant.presses[i % len(plant.presses)], plant.coaters[i % len(plant.coaters)]
        plan = {"operations": [
            {"job_order": number, "operation": "10", "work_unit": plant.work_units[press]},
            {"job_order": number, "operation": "20", "work_unit": plant.work_units[coater]}]}
        execution.dispatch_order(session, order_number=number, actor="planner", plan=plan)
        numbers.append(number)
    return numbers
