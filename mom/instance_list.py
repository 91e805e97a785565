"""The process instance list, read from Temporal's visibility (see :mod:`workflows.instance_status`
for why the instances publish search attributes instead of writing rows).

Every :data:`~workflows.contracts.WORKFLOW_NAME` execution is listed, however it was started, with
its status and close time as Temporal recorded them, and the open incident and current elements as
the instance last published them. Runs that continued as new are left out (the instance is its
latest run). Order: Temporal's (running instances first, then by close time, newest first).
Paging counts with ``count_workflows`` and skips ``offset`` executions of the listing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from mom.domain import ProcessInstanceStatus
from workflows import instance_status
from workflows.contracts import WORKFLOW_NAME

STATUS: dict[WorkflowExecutionStatus, ProcessInstanceStatus] = {
    WorkflowExecutionStatus.RUNNING: ProcessInstanceStatus.RUNNING,
    WorkflowExecutionStatus.COMPLETED: ProcessInstanceStatus.COMPLETED,
    WorkflowExecutionStatus.FAILED: ProcessInstanceStatus.FAILED,
    WorkflowExecutionStatus.TIMED_OUT: ProcessInstanceStatus.FAILED,
    WorkflowExecutionStatus.CANCELED: ProcessInstanceStatus.CANCELLED,
    WorkflowExecutionStatus.TERMINATED: ProcessInstanceStatus.TERMINATED,
}
_VISIBILITY_STATUS: dict[ProcessInstanceStatus, tuple[str, ...]] = {
    ProcessInstanceStatus.RUNNING: ("Running",),
    ProcessInstanceStatus.COMPLETED: ("Completed",),
    ProcessInstanceStatus.FAILED: ("Failed", "TimedOut"),
    ProcessInstanceStatus.CANCELLED: ("Canceled",),
    ProcessInstanceStatus.TERMINATED: ("Terminated",),
}


@dataclass(frozen=True)
class ListedInstance:
    workflow_id: str
    run_id: str | None
    process_id: str
    version: int
    business_key: str | None
    status: ProcessInstanceStatus
    open_incident: bool
    active: list[str] = field(default_factory=list)
    started_by: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def visibility_query(*, status: ProcessInstanceStatus | None = None, process_id: str | None = None,
                     business_key: str | None = None, business_key_prefix: str | None = None,
                     with_open_incidents: bool | None = None, workflow_id: str | None = None) -> str:
    """The visibility list filter for these criteria (values quoted)."""
    terms = [f"WorkflowType = {_quoted(WORKFLOW_NAME)}", "ExecutionStatus != 'ContinuedAsNew'"]
    if workflow_id is not None:
        terms.append(f"WorkflowId = {_quoted(workflow_id)}")
    if status is not None:
        terms.append("(" + " OR ".join(f"ExecutionStatus = '{s}'" for s in _VISIBILITY_STATUS[status]) + ")")
    if process_id is not None:
        terms.append(f"{instance_status.PROCESS_ID.name} = {_quoted(process_id)}")
    if business_key is not None:
        terms.append(f"{instance_status.BUSINESS_KEY.name} = {_quoted(business_key)}")
    if business_key_prefix is not None:
        terms.append(f"{instance_status.BUSINESS_KEY.name} STARTS_WITH {_quoted(business_key_prefix)}")
    if with_open_incidents is True:
        terms.append(f"{instance_status.INCIDENT.name} = true")
    elif with_open_incidents is False:
        terms.append(f"({instance_status.INCIDENT.name} = false OR {instance_status.INCIDENT.name} IS NULL)")
    return " AND ".join(terms)


async def listed(execution: WorkflowExecution) -> ListedInstance:
    """One execution as the list shows it (memo fields for instances that published nothing yet)."""
    published = instance_status.read(execution.typed_search_attributes)
    if instance_status.PROCESS_ID.name not in published:  # started before instances published themselves
        memo = await execution.memo()
        published[instance_status.PROCESS_ID.name] = memo.get("process_id")
        published[instance_status.VERSION.name] = memo.get("version")
    status = STATUS.get(execution.status, ProcessInstanceStatus.RUNNING) if execution.status else \
        ProcessInstanceStatus.RUNNING
    running = status == ProcessInstanceStatus.RUNNING
    elements = published.get(instance_status.ELEMENTS.name)
    version = published.get(instance_status.VERSION.name)
    return ListedInstance(
        workflow_id=execution.id, run_id=execution.run_id,
        process_id=str(published.get(instance_status.PROCESS_ID.name) or "?"),
        version=int(version) if isinstance(version, int) else 0,
        business_key=_text(published.get(instance_status.BUSINESS_KEY.name)),
        status=status,
        open_incident=running and published.get(instance_status.INCIDENT.name) is True,
        active=[str(e) for e in elements] if running and isinstance(elements, list) else [],
        started_by=_text(published.get(instance_status.STARTED_BY.name)),
        started_at=execution.start_time, ended_at=execution.close_time,
    )


def _text(value: object) -> str | None:
    return str(value) if value else None


async def list_instances(client: Client, *, offset: int = 0, limit: int = 100,
                         **criteria: object) -> tuple[list[ListedInstance], int]:
    """One page of instances matching ``criteria`` (see :func:`visibility_query`) and their count."""
    items: list[ListedInstance] = []
    if any(isinstance(v, str) and any(ord(c) < 32 for c in v) for v in criteria.values()):
        return items, 0  # no process id or business key holds a control character (visibility refuses NUL)
    query = visibility_query(**criteria)  # type: ignore[arg-type]
    total = (await client.count_workflows(query)).count
    if offset >= total:
        return items, total
    index = 0
    async for execution in client.list_workflows(query, limit=offset + limit, page_size=min(offset + limit, 1000)):
        if index >= offset:
            items.append(await listed(execution))
        index += 1
    return items, total


async def wait_listed(client: Client, workflow_id: str, run_id: str | None, timeout: float = 2.0) -> bool:
    """Wait until visibility lists a run that was just started (a few ms on the dev server), so that
    whoever started it finds it in the list next; False when it took longer than ``timeout``."""
    import asyncio

    query = visibility_query(workflow_id=workflow_id) + (f" AND RunId = {_quoted(run_id)}" if run_id else "")
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if (await client.count_workflows(query)).count:
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)


async def register_search_attributes(client: Client) -> list[str]:
    """Register the search attributes the instances publish where the namespace lacks them (a worker
    does this before it runs any instance: an upsert of an unknown attribute fails the workflow task).
    Returns the names added. A cluster that refuses (no operator permission) raises an RPCError; the
    README lists the ``temporal operator search-attribute create`` commands to run instead."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest

    namespace = client.namespace
    known = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    missing = {name: kind for name, kind in instance_status.ATTRIBUTES.items() if name not in known.custom_attributes}
    if missing:
        types = {"Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
                 "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
                 "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST}
        await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=namespace, search_attributes={name: types[kind] for name, kind in missing.items()}))
    return sorted(missing)
