"""Lots, sublots, status changes and genealogy traced both ways over several levels."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from mom.db.audit import list_audit_entries
from mom.db.errors import RecordConflict
from mom.db.materials import (
    add_material_definition,
    change_lot_status,
    consume_lot,
    create_lot,
    create_sublot,
    get_lot,
    hold_made_from,
    list_lots,
    trace_backward,
    trace_forward,
)
from mom.domain import DomainError, IllegalTransition, LotStatus


def _chain(session: Session, press: int) -> dict[str, int]:
    """steel -> blank -> bracket -> assembly, plus paint -> assembly and steel -> other blank."""
    add_material_definition(session, code="BLANK", name="Blank", unit="pcs")
    add_material_definition(session, code="PAINT", name="Paint", unit="l")
    add_material_definition(session, code="ASSY", name="Assembly", unit="pcs")
    lots = {
        "steel": create_lot(session, lot_number="S-1", material_code="STEEL", quantity="100"),
        "blank": create_lot(session, lot_number="B-1", material_code="BLANK", quantity=40),
        "blank2": create_lot(session, lot_number="B-2", material_code="BLANK", quantity=10),
        "bracket": create_lot(session, lot_number="BR-1", material_code="BRACKET", quantity=40),
        "paint": create_lot(session, lot_number="P-1", material_code="PAINT", quantity="5.5"),
        "assy": create_lot(session, lot_number="A-1", material_code="ASSY", quantity=20),
    }
    ids = {name: lot.id for name, lot in lots.items()}

    def use(src: str, dst: str, qty: str, op: str) -> None:
        consume_lot(
            session,
            consumed_lot_id=ids[src],
            produced_lot_id=ids[dst],
            quantity=qty,
            performed_by="op-ana",
            operation=op,
            work_unit_id=press,
        )

    use("steel", "blank", "60", "Blank")
    use("steel", "blank2", "40", "Blank")
    use("blank", "bracket", "40", "Form")
    use("bracket", "assy", "40", "Assemble")
    use("paint", "assy", "1.25", "Paint")
    return ids


def test_genealogy_backward_walks_all_levels(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    ids = _chain(session, plant.press1)
    steps = trace_backward(session, lot_id=ids["assy"])
    seen = {(s.depth, s.link.consumed_lot.lot_number, s.link.produced_lot.lot_number) for s in steps}
    assert seen == {
        (1, "BR-1", "A-1"),
        (1, "P-1", "A-1"),
        (2, "B-1", "BR-1"),
        (3, "S-1", "B-1"),
    }
    first = steps[0].link
    assert first.performed_by == "op-ana" and first.work_unit_id == plant.press1
    assert {s.link.operation for s in steps} == {"Assemble", "Paint", "Form", "Blank"}


def test_genealogy_forward_finds_the_recall_scope(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    ids = _chain(session, plant.press1)
    made_from_steel = {(s.depth, s.link.produced_lot.lot_number) for s in trace_forward(session, lot_id=ids["steel"])}
    assert made_from_steel == {(1, "B-1"), (1, "B-2"), (2, "BR-1"), (3, "A-1")}
    assert trace_forward(session, lot_id=ids["assy"]) == []
    assert trace_backward(session, lot_id=ids["steel"]) == []


def test_consumption_takes_quantity_and_empties_the_lot(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    ids = _chain(session, plant.press1)
    steel = list_lots(session, material_code="STEEL")[0][0]
    assert steel.id == ids["steel"] and steel.quantity == 0 and steel.status == LotStatus.CONSUMED
    paint = list_lots(session, material_code="PAINT")[0][0]
    assert paint.quantity == Decimal("4.25") and paint.status == LotStatus.AVAILABLE
    with pytest.raises(DomainError, match="only an available lot can be consumed"):
        consume_lot(session, consumed_lot_id=ids["steel"], produced_lot_id=ids["blank"], quantity=1, performed_by="x")
    with pytest.raises(DomainError, match=r"cannot consume 5 l; 4\.25 l left"):
        consume_lot(session, consumed_lot_id=ids["paint"], produced_lot_id=ids["assy"], quantity=5, performed_by="x")
    with pytest.raises(DomainError, match="counted in 'l', not 'kg'"):
        consume_lot(
            session,
            consumed_lot_id=ids["paint"],
            produced_lot_id=ids["assy"],
            quantity=1,
            unit="kg",
            performed_by="x",
        )


def test_a_genealogy_cycle_is_refused(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    ids = _chain(session, plant.press1)
    # not a cycle: B-2 never went into A-1
    consume_lot(session, consumed_lot_id=ids["assy"], produced_lot_id=ids["blank2"], quantity=1, performed_by="x")
    # B-1 went (through BR-1) into A-1: putting A-1 back into B-1 would close a loop
    with pytest.raises(RecordConflict, match="lot B-1 already went into lot A-1"):
        consume_lot(session, consumed_lot_id=ids["assy"], produced_lot_id=ids["blank"], quantity=1, performed_by="x")


def test_lot_status_changes_are_checked_and_audited(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    lot = create_lot(session, lot_number="S-9", material_code="STEEL", quantity=10)
    create_sublot(session, lot_id=lot.id, sublot_number="S-9/1", quantity=4)
    with pytest.raises(DomainError, match="does not fit in lot S-9"):
        create_sublot(session, lot_id=lot.id, sublot_number="S-9/2", quantity=7)
    change_lot_status(session, lot_id=lot.id, to=LotStatus.ON_HOLD, actor="qa-li", reason="rust")
    assert [s.status for s in lot.sublots] == [LotStatus.ON_HOLD]
    with pytest.raises(IllegalTransition, match="lot S-9: cannot go from 'on_hold' to 'consumed'"):
        change_lot_status(session, lot_id=lot.id, to=LotStatus.CONSUMED, actor="qa-li")
    change_lot_status(session, lot_id=lot.id, to=LotStatus.SCRAPPED, actor="qa-li", reason="rust")
    with pytest.raises(IllegalTransition, match="from 'scrapped' to 'available'"):
        change_lot_status(session, lot_id=lot.id, to=LotStatus.AVAILABLE, actor="qa-li")
    entries, total = list_audit_entries(session, entity_type="lot", entity_id="S-9")
    assert total == 2
    assert [(e.details["to"], e.reason, e.actor) for e in entries] == [
        ("scrapped", "rust", "qa-li"),
        ("on_hold", "rust", "qa-li"),
    ]
    with pytest.raises(DomainError, match="unit 'l' differs"):
        create_lot(session, lot_number="S-10", material_code="STEEL", quantity=1, unit="l")
    with pytest.raises(RecordConflict, match="lot 'S-9' already exists"):
        create_lot(session, lot_number="S-9", material_code="STEEL", quantity=1)


def test_recall_hold_holds_the_available_lots_made_from_a_suspect_lot(  # type: ignore[no-untyped-def]
        session: Session, plant) -> None:
    ids = _chain(session, plant.press1)  # S-1, B-1 and BR-1 are used up; B-2 and A-1 are in stock
    recall = hold_made_from(session, lot_id=ids["steel"], actor="sup-jo", reason="supplier recalls the coil")
    assert recall.held == ["B-2", "A-1"]
    assert recall.left == {"S-1": LotStatus.CONSUMED, "B-1": LotStatus.CONSUMED, "BR-1": LotStatus.CONSUMED}
    assert get_lot(session, lot_id=ids["assy"]).status == LotStatus.ON_HOLD
    assert get_lot(session, lot_id=ids["paint"]).status == LotStatus.AVAILABLE  # not made from the steel
    entries = list_audit_entries(session, action="lot.status_changed", actor="sup-jo")[0]
    assert {e.entity_id: e.reason for e in entries} == {
        "B-2": "recall of S-1: supplier recalls the coil", "A-1": "recall of S-1: supplier recalls the coil"}
    # again: nothing left to hold
    again = hold_made_from(session, lot_id=ids["steel"], actor="sup-jo", reason="again")
    assert again.held == [] and again.left["A-1"] == LotStatus.ON_HOLD
