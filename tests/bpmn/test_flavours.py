"""Both modeler flavours parse into the same engine description and run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn.deploy import compile_file
from bpmn.engine import FormInvalid, ProcessRun
from bpmn.spec_bundle import spec_from_json
from mom.task_catalog import known_task_types

DIAGRAMS = Path(__file__).resolve().parents[1] / "diagrams"


def start(name: str, variables: dict[str, object]) -> ProcessRun:
    compiled, _ = compile_file(DIAGRAMS / name, known_task_types())
    run = ProcessRun.start(spec_from_json(compiled.spec_json), variables)
    run.advance()
    return run


def test_zeebe_extensions_become_service_calls_and_user_task_views() -> None:
    run = start("approval.bpmn", {"order_id": "PO-5", "qty": 5, "new_qty": 6})
    [call] = run.ready_service_calls()
    assert call.element_id == "log_request"
    assert call.task_type == "mom.log"
    assert call.inputs == {"message": "order PO-5 qty 5", "category": "change"}  # its custom header too
    assert call.headers == {"category": "change"}
    assert call.retries == 3
    run.complete_service_task(call.task_id, {"logged": True})
    [task] = run.pending_user_tasks()
    assert task.candidate_groups == ["supervisors"]
    assert task.priority == 50  # "=70 if qty > 100 else 50"
    assert task.form_schema is not None
    assert task.form_schema["required"] == ["comment"]
    assert task.form_key == "camunda-forms:bpmn:ApproveForm"


def test_spiff_extensions_lanes_and_linked_json_schema_form() -> None:
    run = start("spiff_flavour.bpmn", {"lot_id": "LOT-7"})
    [call] = run.ready_service_calls()
    assert call.task_type == "mom.log"
    assert call.inputs == {"message": "label for LOT-7"}
    run.complete_service_task(call.task_id, {"logged": True})
    assert run.variables()["label_result"] == {"logged": True}  # resultVariable
    [task] = run.pending_user_tasks()
    assert task.candidate_groups == ["operators"]  # from the lane
    with pytest.raises(FormInvalid) as invalid:
        run.complete_user_task(task.task_id, {"label_ok": True, "scanned_lot": "7"})
    assert set(invalid.value.errors) == {"scanned_lot"}
    run.complete_user_task(task.task_id, {"label_ok": True, "scanned_lot": "LOT-7"})
    assert run.is_completed
    assert run.completed == ["start", "print_label", "confirm_label", "end"]


def test_state_survives_serialization_round_trip() -> None:
    run = start("approval.bpmn", {"order_id": "PO-5", "qty": 5, "new_qty": 6})
    [call] = run.ready_service_calls()
    restored = ProcessRun.restore(run.serialize(), run.completed)
    assert [c.task_id for c in restored.ready_service_calls()] == [call.task_id]
    restored.complete_service_task(call.task_id, {"logged": True})
    assert [t.element_id for t in restored.pending_user_tasks()] == ["approve"]


def test_an_output_mapping_reads_the_job_result_before_process_variables() -> None:
    text = (DIAGRAMS / "approval.bpmn").read_text().replace(
        '<zeebe:output source="=logged" target="request_logged" />',
        '<zeebe:output source="=logged" target="logged" />')
    from bpmn.deploy import compile_diagram

    compiled = compile_diagram(text, "approval.bpmn", known_task_types())
    run = ProcessRun.start(spec_from_json(compiled.spec_json), {"order_id": "1", "qty": 1, "new_qty": 2,
                                                                "logged": "from an earlier step"})
    run.advance()
    [call] = run.ready_service_calls()
    run.complete_service_task(call.task_id, {"logged": "this step"})
    assert run.variables()["logged"] == "this step"
