"""The catalog of service-task types: what a diagram may name in ``zeebe:taskDefinition type``.

Pure data, shared by the lint (unknown types are errors), the interpreter (default timeouts,
retries and where the work runs) and the modeler (types offered to process engineers). The worker
registers one activity per entry under the same name; a test keeps both in step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Runs = Literal["cloud", "edge"]


@dataclass(frozen=True)
class TaskType:
    name: str
    summary: str
    runs: Runs = "cloud"  # "edge": on the plant's edge worker, queue edge-<site>
    timeout_seconds: float = 60.0
    heartbeat_seconds: float | None = None
    retries: int = 5
    inputs: tuple[str, ...] = ()
    # inputs the activity refuses to run without: lint checks a diagram gives them (mapping or header)
    required: tuple[str, ...] = ()


CATALOG: dict[str, TaskType] = {
    t.name: t
    for t in (
        TaskType("mom.log", "Record a message in the process log", inputs=("message",), required=("message",)),
        TaskType("mom.wait", "Wait a number of seconds (trying diagrams without a plant)",
                 timeout_seconds=3600, heartbeat_seconds=10, inputs=("seconds",)),
        TaskType("mom.raise_error", "Fail with a business error code (trying error paths)",
                 inputs=("code", "message")),
        # Machines (OPC UA), on the edge worker of the machine's site (queue edge-<site>).
        TaskType("machine.load_recipe", "Store a job with its recipe on the machine (idempotent by job id); "
                 "a setpoint outside its limits or EURange is refused (SETPOINT_OUT_OF_RANGE)",
                 runs="edge", timeout_seconds=60, inputs=("site", "endpoint", "machine", "job_id", "recipe", "limits")),
        TaskType("machine.start_job", "Start a stored job; refused in Held or Aborted (idempotent by job id)",
                 runs="edge", timeout_seconds=60, inputs=("site", "endpoint", "machine", "job_id", "recipe", "limits")),
        TaskType("machine.wait_job_end", "Wait for the job's end event from the machine",
                 runs="edge", timeout_seconds=24 * 3600, heartbeat_seconds=30,
                 inputs=("site", "endpoint", "machine", "job_id")),
        TaskType("machine.read", "Read machine variables", runs="edge", inputs=("site", "endpoint", "nodes")),
        TaskType("machine.write", "Write a machine variable (typed by the node); NaN, infinity or a value "
                 "outside its limits or EURange is refused (SETPOINT_OUT_OF_RANGE)", runs="edge",
                 inputs=("site", "endpoint", "node", "value", "limits")),
        TaskType("machine.call", "Call a machine method", runs="edge",
                 inputs=("site", "endpoint", "object", "method", "arguments")),
        # Records (ISA-95 data), in the cloud; see activities/records.py for the BPMN error codes.
        TaskType("records.release_order", "Release a production order from ERP; returns its operations and "
                 "the scheduling problem", inputs=("order_number", "product_code", "quantity", "released_by")),
        TaskType("records.dispatch_order", "Dispatch the order's job orders to work units (by the plan, or the "
                 "first work unit of each work center); returns the operations with machine and site",
                 inputs=("order_number", "plan", "dispatched_by")),
        TaskType("records.check_staged_lots", "Check scanned lots against the operation's BOM and lot status "
                 "(LOT_NOT_AVAILABLE, LOT_NOT_IN_BOM)", inputs=("order_number", "sequence", "lot_ids")),
        TaskType("records.current_assignment", "The job order's machine (site, endpoint, machine, work unit) and "
                 "recipe as recorded now, after any reroute or ECO (NO_WORK_UNIT)",
                 inputs=("order_number", "sequence")),
        TaskType("records.record_job_result", "Record a job's counts, its output lot and the genealogy of the "
                 "lots consumed", inputs=("order_number", "sequence", "staged", "good_count", "bad_count",
                                          "performed_by")),
        TaskType("records.quality_result", "Store a lot's measurements and judge them against the routing "
                 "operation's tolerances", inputs=("lot", "measurements", "inspected_by", "order_number",
                                                   "sequence")),
        TaskType("records.hold_lot", "Put a lot on hold", inputs=("lot", "held_by", "reason")),
        TaskType("records.disposition_lot", "Disposition a held lot: use_as_is, rework or scrap (genealogy kept)",
                 inputs=("lot", "disposition", "decided_by", "reason")),
        TaskType("records.complete_order", "Complete a production order and export its B2MML production "
                 "performance", inputs=("order_number", "completed_by", "site")),
        TaskType("records.start_quality_deviation", "Start a quality_deviation instance for a lot (once per lot "
                 "and starting instance)", inputs=("lot", "order_number", "sequence", "failed", "reason")),
        # Maintenance (machine_breakdown, preventive_maintenance), in the cloud; keyed by work order.
        TaskType("maintenance.open_work_order", "Open a maintenance work order for a work unit (once per alarm or "
                 "drift)", inputs=("work_unit", "kind", "cause", "key", "opened_by")),
        TaskType("maintenance.hold_jobs", "Hold the machine's jobs: pause the running one, keep the queue waiting",
                 inputs=("work_unit", "work_order", "held_by")),
        TaskType("maintenance.downtime_schedule", "The work center's open jobs, current plan and breakdown event "
                 "for schedule.replan", inputs=("work_unit", "expected_repair_s")),
        TaskType("maintenance.resume_jobs", "Resume the paused jobs; re-dispatch queued jobs the replan moved to "
                 "another work unit", inputs=("work_unit", "work_order", "plan", "resumed_by")),
        TaskType("maintenance.record_downtime", "Record the unplanned downtime of a work unit (for OEE)",
                 inputs=("work_unit", "work_order", "starts_at", "ends_at", "reason", "recorded_by")),
        TaskType("maintenance.close_work_order", "Close a maintenance work order with its outcome",
                 inputs=("work_order", "closed_by", "repaired", "cause_found", "action_taken", "reading")),
        # Changes (engineering_change, demand_change), in the cloud.
        TaskType("changes.eco_impact", "ECO impact analysis: orders and their step, WIP lots, machines, recipes, "
                 "schedule impact (ECO_INVALID)", inputs=("product_code", "revision")),
        TaskType("changes.apply_eco", "Make the new revision effective; per order finish_old, migrate or rework "
                 "(once per ECO)", inputs=("eco_number", "product_code", "revision", "impact", "order_choices",
                                           "approved_by", "effective_at")),
        TaskType("changes.migrate_instances", "Migrate running instances of the migrated orders where replay "
                 "says safe", timeout_seconds=300, inputs=("process_id", "orders", "approved_by", "reason")),
        TaskType("changes.notify", "Notify a group (recorded, shown in the inbox and station pages)",
                 inputs=("group", "message", "about")),
        TaskType("changes.demand_schedule", "A demand change as a replan problem: open orders, current plan, "
                 "quantity change (ORDER_NOT_CHANGEABLE)", inputs=("order_number", "new_quantity", "new_due_at")),
        TaskType("changes.demand_impact", "The order's finish before and after the replan against its due time",
                 inputs=("order_number", "plan_before", "plan_after", "due_s")),
        TaskType("changes.update_demand", "Update the order's quantity, due date and planned times",
                 inputs=("order_number", "new_quantity", "new_due_at", "plan", "approved_by", "reason")),
        # Scheduling (PuLP), in the cloud.
        TaskType("schedule.plan", "Plan job orders on work units (flexible job shop)", timeout_seconds=600,
                 heartbeat_seconds=30, retries=3),
        TaskType("schedule.replan", "Repair the current plan after a change, moving as little as possible",
                 timeout_seconds=600, heartbeat_seconds=30, retries=3),
    )
}


# Record steps are short database transactions (tens of ms): a short time limit means an order whose
# worker died mid-step is retried after seconds, not after the default minute (bench/chaos.py).
RECORD_STEP_TIMEOUT_S = 15.0
CATALOG = {
    name: replace(t, timeout_seconds=RECORD_STEP_TIMEOUT_S) if name.startswith("records.") else t
    for name, t in CATALOG.items()
}


# What the activities refuse to run without (activities/maintenance.py and changes.py text_input).
_REQUIRED = {
    "maintenance.open_work_order": ("work_unit",),
    "maintenance.hold_jobs": ("work_unit", "work_order"),
    "maintenance.downtime_schedule": ("work_unit",),
    "maintenance.resume_jobs": ("work_unit", "work_order"),
    "maintenance.record_downtime": ("work_unit", "work_order"),
    "maintenance.close_work_order": ("work_order",),
    "changes.eco_impact": ("product_code",),
    "changes.apply_eco": ("eco_number", "product_code"),
    "changes.notify": ("group", "message"),
    "changes.demand_schedule": ("order_number",),
    "changes.demand_impact": ("order_number",),
    "changes.update_demand": ("order_number",),
}
CATALOG = {name: replace(t, required=_REQUIRED[name]) if name in _REQUIRED else t for name, t in CATALOG.items()}


def known_task_types() -> set[str]:
    return set(CATALOG)


def task_type(name: str) -> TaskType | None:
    return CATALOG.get(name)
