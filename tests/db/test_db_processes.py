"""Process deployments, instances, incidents, human tasks, machine events and quality records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from mom.db.audit import list_audit_entries, verify_audit_chain
from mom.db.errors import RecordConflict
from mom.db.events import latest_machine_state, list_machine_events, record_machine_command, record_machine_event
from mom.db.materials import create_lot
from mom.db.processes import (
    change_process_instance_status,
    deploy_process_definition,
    get_process_definition,
    list_process_definitions,
    list_process_instances,
    raise_incident,
    resolve_incident,
    start_process_instance,
)
from mom.db.quality import list_quality_records, record_quality_result
from mom.db.tasks import (
    claim_human_task,
    complete_human_task,
    create_human_task,
    list_human_tasks,
)
from mom.domain import (
    DomainError,
    IllegalTransition,
    MachineEventKind,
    NotPermitted,
    ProcessInstanceStatus,
    QualityResult,
    TaskStatus,
)

DIAGRAM = '<definitions id="{}"/>'


def test_deploys_are_versioned_by_content_and_audited(session: Session) -> None:
    v1, created = deploy_process_definition(
        session, process_key="order", bpmn_xml=DIAGRAM.format(1), deployed_by="eng-kim", reason="first"
    )
    assert created and v1.version == 1 and len(v1.sha256) == 64
    again, created = deploy_process_definition(
        session, process_key="order", bpmn_xml=DIAGRAM.format(1), deployed_by="x"
    )
    assert not created and again.id == v1.id
    deploy_process_definition(session, process_key="order", bpmn_xml=DIAGRAM.format(2), deployed_by="eng-kim")
    deploy_process_definition(session, process_key="ecn", bpmn_xml=DIAGRAM.format(3), deployed_by="eng-kim")
    assert get_process_definition(session, process_key="order").version == 2
    assert get_process_definition(session, process_key="order", version=1).id == v1.id
    latest, total = list_process_definitions(session, latest_only=True)
    assert total == 2 and [(d.process_key, d.version) for d in latest] == [("ecn", 1), ("order", 2)]
    deploys = list_audit_entries(session, action="process.deployed")[0]
    assert [e.entity_id for e in deploys] == ["ecn:1", "order:2", "order:1"]
    assert deploys[2].reason == "first" and deploys[2].details["sha256"] == v1.sha256


def test_instances_incidents_and_tasks(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    definition, _ = deploy_process_definition(session, process_key="order", bpmn_xml="<d/>", deployed_by="eng")
    instance = start_process_instance(
        session, process_definition_id=definition.id, workflow_id="wf-1", run_id="r1", started_by="erp"
    )
    with pytest.raises(RecordConflict, match="wf-1"):
        start_process_instance(session, process_definition_id=definition.id, workflow_id="wf-1", started_by="erp")
    incident = raise_incident(session, workflow_id="wf-1", element_id="press_start", message="timeout")
    stuck, total = list_process_instances(session, with_open_incidents=True, process_key="order")
    assert total == 1 and stuck[0].id == instance.id
    resolve_incident(session, incident_id=incident.id, actor="sup-jo", reason="press restarted")
    assert list_process_instances(session, with_open_incidents=True)[1] == 0

    task = create_human_task(
        session,
        process_instance_id=instance.id,
        element_id="approve",
        name="Approve deviation",
        candidate_groups=["supervisors", "quality"],
        due_at=datetime.now(UTC) + timedelta(hours=1),
    )
    create_human_task(session, element_id="stage", name="Stage material", candidate_groups=["operators"])
    inbox, total = list_human_tasks(session, candidate_groups=["quality"], status=TaskStatus.OPEN)
    assert total == 1 and inbox[0].id == task.id and task.candidate_groups == ["quality", "supervisors"]
    with pytest.raises(NotPermitted, match="in none of its groups"):
        claim_human_task(session, task_id=task.id, user="op-ana", user_groups=["operators"])
    claim_human_task(session, task_id=task.id, user="sup-jo", user_groups=["supervisors"])
    with pytest.raises(NotPermitted, match="assigned to sup-jo"):
        complete_human_task(session, task_id=task.id, user="op-ana", result={"approved": True})
    complete_human_task(session, task_id=task.id, user="sup-jo", result={"approved": False}, reason="out of spec")
    with pytest.raises(IllegalTransition, match=f"human task {task.id}: cannot go from 'completed'"):
        complete_human_task(session, task_id=task.id, user="sup-jo", result={})
    (entry,), _ = list_audit_entries(session, entity_type="human task")
    assert (entry.action, entry.actor, entry.reason) == ("task.rejected", "sup-jo", "out of spec")
    assert entry.details["result"] == {"approved": False}

    change_process_instance_status(session, workflow_id="wf-1", to=ProcessInstanceStatus.COMPLETED)
    with pytest.raises(IllegalTransition, match="process instance wf-1"):
        change_process_instance_status(session, workflow_id="wf-1", to=ProcessInstanceStatus.RUNNING)
    assert verify_audit_chain(session) is None


def test_instances_of_an_order_by_business_key_prefix(session: Session) -> None:
    definition, _ = deploy_process_definition(session, process_key="order", bpmn_xml="<k/>", deployed_by="eng")
    for workflow_id, key in (("w1", "PO-1"), ("w2", "PO-1:change-a"), ("w3", "PO-10"), ("w4", "PO-1:change-b"),
                             ("w5", "PO_1:x"), ("w6", "PO%1:y")):
        start_process_instance(session, process_definition_id=definition.id, workflow_id=workflow_id,
                               started_by="erp", business_key=key)
    changes, total = list_process_instances(session, business_key_prefix="PO-1:")
    assert total == 2 and sorted(i.workflow_id for i in changes) == ["w2", "w4"]
    # LIKE's wildcards in the prefix are plain characters
    assert [i.workflow_id for i in list_process_instances(session, business_key_prefix="PO_1")[0]] == ["w5"]
    assert [i.workflow_id for i in list_process_instances(session, business_key_prefix="PO%")[0]] == ["w6"]


def test_machine_events_commands_and_quality(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    t0 = datetime(2026, 3, 2, 6, tzinfo=UTC)
    record_machine_event(session, work_unit_id=plant.press1, kind=MachineEventKind.STATE, name="Idle", at=t0)
    record_machine_event(
        session, work_unit_id=plant.press1, kind=MachineEventKind.STATE, name="Execute", at=t0 + timedelta(minutes=1)
    )
    record_machine_event(
        session,
        work_unit_id=plant.press1,
        kind=MachineEventKind.ALARM,
        name="E042",
        severity=700,
        value={"text": "oil pressure low"},
        at=t0 + timedelta(minutes=2),
    )
    latest = latest_machine_state(session, work_unit_id=plant.press1)
    assert latest is not None and latest.name == "Execute"
    with pytest.raises(DomainError, match="are audited"):
        record_machine_event(session, work_unit_id=plant.press1, kind=MachineEventKind.COMMAND, name="Start", at=t0)
    record_machine_command(
        session, work_unit_id=plant.press1, command="Start", actor="wf-1", arguments={"job": "PO-1/10"}
    )
    alarms, total = list_machine_events(session, work_unit_id=plant.press1, kind=MachineEventKind.ALARM)
    assert total == 1 and alarms[0].value == {"text": "oil pressure low"}
    (command,), _ = list_audit_entries(session, action="machine.command")
    assert command.entity_id == "Acme.Lyon.Pressing.PressLine.Press1" and command.details["command"] == "Start"

    create_lot(session, lot_number="BR-9", material_code="BRACKET", quantity=10)
    from mom.db.materials import get_lot_by_number

    lot = get_lot_by_number(session, lot_number="BR-9")
    ok = record_quality_result(
        session,
        characteristic="hole Ø",
        value_number="10.02",
        lower_limit="9.95",
        upper_limit="10.05",
        unit="mm",
        lot_id=lot.id,
        recorded_by="qa-li",
    )
    bad = record_quality_result(
        session,
        characteristic="hole Ø",
        value_number="10.07",
        lower_limit="9.95",
        upper_limit="10.05",
        unit="mm",
        lot_id=lot.id,
        recorded_by="qa-li",
    )
    assert (ok.result, bad.result) == (QualityResult.PASS, QualityResult.FAIL)
    failed, total = list_quality_records(session, lot_id=lot.id, result=QualityResult.FAIL)
    assert total == 1 and failed[0].id == bad.id
    with pytest.raises(DomainError, match="give a lot or a job order"):
        record_quality_result(session, characteristic="x", value_number=1, recorded_by="qa")
