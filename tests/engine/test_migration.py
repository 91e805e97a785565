"""Versions and migration: running instances move to a new version only where replay says it is safe."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support.processes import DIAGRAMS, wait_for_state
from temporalio.client import Client

from mom import instances
from mom.deployment import deploy_bytes
from mom.migration import migrate_process
from mom.process_store import ProcessStore
from mom.settings import load_settings
from worker import build_worker

V1 = (DIAGRAMS / "approval.bpmn").read_text()
# v2 changes only what comes after the approval: a notification before the applied end
V2 = V1.replace('<bpmn:sequenceFlow id="f4" sourceRef="apply" targetRef="end_applied" />',
                '<bpmn:sequenceFlow id="f4" sourceRef="apply" targetRef="notify" />'
                '<bpmn:serviceTask id="notify" name="Notify operators"><bpmn:extensionElements>'
                '<zeebe:taskDefinition type="mom.log" /><zeebe:ioMapping>'
                '<zeebe:input source="=&quot;new quantity &quot; + str(qty)" target="message" />'
                '<zeebe:output source="=logged" target="operators_notified" /></zeebe:ioMapping>'
                '</bpmn:extensionElements></bpmn:serviceTask>'
                '<bpmn:sequenceFlow id="f5" sourceRef="notify" targetRef="end_applied" />')
# v3 changes what the instances already did: a check before the log step
V3 = V1.replace('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="log_request" />',
                '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="precheck" />'
                '<bpmn:scriptTask id="precheck"><bpmn:script>checked = True</bpmn:script></bpmn:scriptTask>'
                '<bpmn:sequenceFlow id="f0" sourceRef="precheck" targetRef="log_request" />')


async def test_dry_run_then_migrate_the_safe_instances(temporal_client: Client, task_queue: str,
                                                      data_dir: Path) -> None:
    store = ProcessStore(data_dir)
    deploy_bytes(store, V1.encode(), "approval.bpmn", deployed_by="test")
    settings = load_settings(data_dir=data_dir, task_queue=task_queue)
    async with build_worker(temporal_client, settings, queue=task_queue):
        started = await instances.start_instance(temporal_client, store, "approval", task_queue=task_queue,
                                                 variables={"order_id": "PO-M", "qty": 10, "new_qty": 11})
        wid = started.workflow_id
        await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
        assert deploy_bytes(store, V2.encode(), "approval.bpmn", deployed_by="test").version.version == 2
        assert deploy_bytes(store, V3.encode(), "approval.bpmn", deployed_by="test").version.version == 3

        unsafe = await migrate_process(temporal_client, store, "approval", 3, dry_run=True, user="erin")
        mine = [v for v in unsafe if v.instance_id == wid]
        assert len(mine) == 1 and not mine[0].safe and not mine[0].migrated
        assert "does not replay on version 3" in " ".join(mine[0].reasons)

        dry = await migrate_process(temporal_client, store, "approval", 2, dry_run=True, user="erin")
        assert [(v.instance_id, v.safe, v.migrated) for v in dry if v.instance_id == wid] == [(wid, True, False)]
        state = await instances.instance_state(temporal_client, wid)
        assert state["version"] == 1  # a dry run changes nothing

        done = await migrate_process(temporal_client, store, "approval", 2, dry_run=False, user="erin",
                                     reason="notify operators of quantity changes")
        assert [(v.safe, v.migrated) for v in done if v.instance_id == wid] == [(True, True)]
        state = await wait_for_state(temporal_client, wid, lambda s: s["version"] == 2 and s["user_tasks"])
        task = state["user_tasks"][0]
        await instances.complete_user_task(temporal_client, wid, task["task_id"], {"approved": True, "comment": "ok"})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed[-3:] == ["apply", "notify", "end_applied"]  # the new step ran
    assert result.variables["operators_notified"] is True
