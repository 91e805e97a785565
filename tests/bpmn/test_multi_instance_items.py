"""The input element of a multi-instance stays local to each instance (as in Zeebe)."""

from __future__ import annotations

from pathlib import Path

from bpmn.deploy import compile_file
from bpmn.engine import ProcessRun
from bpmn.spec_bundle import spec_from_json

DIAGRAMS = Path(__file__).resolve().parents[1] / "diagrams"


def test_a_sequential_multi_instance_without_output_collection_runs_every_item() -> None:
    compiled, _ = compile_file(DIAGRAMS / "each_lot_in_turn.bpmn", set())
    run = ProcessRun.start(spec_from_json(compiled.spec_json), {"lots": ["a", "b", "c"]})
    run.advance()  # before the fix: "Multiinstance input item lot already exists" at the second lot
    assert run.is_completed
    assert run.completed.count("each") == 4  # three instances and the multi-instance itself
    variables = run.variables()
    assert variables["seen"] == "c" and "lot" not in variables
