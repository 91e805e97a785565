"""Composition root of a Temporal worker (cloud or edge).

    python worker.py --queue mom          # the cloud worker: processes, records, scheduling
    python worker.py --edge SITE          # an edge worker next to the PLCs: machine activities only

Settings come from the environment (``MOM_TEMPORAL_ADDRESS``, ``MOM_DATA_DIR``...). The cloud
worker runs the BpmnProcess interpreter and the activities that need no machine; the edge worker
runs only machine activities, on task queue ``edge-<SITE>``; the cloud worker never opens OPC UA.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import bpmn.clock
import bpmn.spec_cache
from activities.messages import MessagingActivities
from activities.scheduling import SchedulingActivities
from activities.trying import TRYING_ACTIVITIES
from mom import heap, instance_list, temporal_connection
from mom.process_store import ProcessStore
from mom.settings import Settings, load_settings
from workflows import update_proof
from workflows.bpmn_process import BpmnProcess
from workflows.mailbox import MessageMailbox
from workflows.process_activities import ProcessActivities

# SpiffWorkflow and our engine modules pass through the sandbox: they are deterministic once
# bpmn.clock is installed, and replay tests guard them (the sandbox no longer checks them).
PASSTHROUGH = (
    "SpiffWorkflow", "lxml", "jsonschema", "jsonschema_specifications", "referencing", "rpds",
    "attrs", "bpmn", "mom", "workflows.contracts", "workflows.activity_options", "workflows.update_proof",
)


def sandbox_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )


Release = Callable[[], Awaitable[None]]
_log = logging.getLogger("mom.worker")


class PlantWorker(Worker):
    """A Temporal worker that, once shut down (its running activities finished or cancelled),
    releases what its activities held: the edge worker's OPC UA sessions, the cloud worker's
    database connections. A worker stopped inside a process that goes on (the demo, ``mom trial``,
    the tests) would otherwise leave every machine session reconnecting for ever."""

    def __init__(self, client: Client, *, releases: Sequence[Release] = (), **options: Any) -> None:
        super().__init__(client, **options)
        self._releases = list(releases)
        self._client = client
        self._runs_instances = BpmnProcess in options.get("workflows", ())

    async def run(self) -> None:
        if self._runs_instances:  # a server started before they existed (an older mom up data directory)
            try:
                await instance_list.register_search_attributes(self._client)
            except RPCError as exc:
                _log.error("worker on %s: cannot register the instances' search attributes (%s): the instances "
                           "fail their workflow tasks until they exist (README, 'Temporal cluster')",
                           self.task_queue, exc.message)
        try:
            await super().run()
        finally:
            releases, self._releases = self._releases, []
            for release in reversed(releases):
                try:
                    await release()
                except Exception:
                    _log.exception("worker on %s: releasing %s failed", self.task_queue, release)


def cloud_activities(settings: Settings, releases: list[Release]) -> list[Callable[..., Any]]:
    from activities.inbox import InboxActivities
    from mom.db import create_database_engine, create_session_factory
    from mom.db.migrate import upgrade_engine

    engine = create_database_engine(settings.effective_database_url)

    async def dispose() -> None:
        engine.dispose()

    releases.append(dispose)
    upgrade_engine(engine)
    inbox = InboxActivities(create_session_factory(engine))
    from activities.records import RecordActivities, process_starter

    records = RecordActivities(
        create_session_factory(engine), exchange_dir=settings.data_dir / "exchange",
        start_process=process_starter(lambda: temporal_connection.connect(settings), settings.data_dir,
                                      database_url=settings.effective_database_url))
    record_activities = [records.release_order, records.dispatch_order, records.check_staged_lots,
                         records.current_assignment,
                         records.record_job_result, records.quality_result, records.hold_lot, records.disposition_lot,
                         records.complete_order, records.start_quality_deviation]
    scheduling = SchedulingActivities()
    from activities.changes import ChangeActivities
    from activities.maintenance import MaintenanceActivities

    maintenance = MaintenanceActivities(create_session_factory(engine))
    changes = ChangeActivities(create_session_factory(engine), data_dir=settings.data_dir,
                               proof_key=settings.update_proof_key, database_url=settings.effective_database_url)
    change_activities = [maintenance.open_work_order, maintenance.hold_jobs, maintenance.downtime_schedule,
                         maintenance.resume_jobs, maintenance.record_downtime, maintenance.close_work_order,
                         changes.eco_impact, changes.apply_eco, changes.migrate_instances, changes.notify,
                         changes.demand_schedule, changes.demand_impact, changes.update_demand]
    return [*TRYING_ACTIVITIES, inbox.open_tasks, inbox.close_task, scheduling.plan, scheduling.replan,
            *record_activities, *change_activities]


def edge_activities(settings: Settings, site: str, releases: list[Release]) -> list[Callable[..., Any]]:
    """Machine activities only: the edge worker is the one place that opens OPC UA sessions."""
    from activities.machines import MachineActivities
    from connectors.opcua.pool import SessionPool

    pool = SessionPool()
    releases.append(pool.close)
    machines = MachineActivities(pool)
    return [machines.load_recipe, machines.start_job, machines.wait_job_end, machines.read, machines.write,
            machines.call]


def build_worker(client: Client, settings: Settings, *, queue: str | None = None, edge_site: str | None = None,
                 max_concurrent_activities: int = 200) -> PlantWorker:
    """A worker for the cloud queue (BpmnProcess + cloud activities) or for one site's edge queue."""
    bpmn.clock.install()
    store = ProcessStore.for_settings(settings)  # deployed specs are in the database, not on a shared disk
    bpmn.spec_cache.install_loader(store.load_spec)
    update_proof.install_key(settings.update_proof_key)  # the workflow's validators check Updates with it
    releases: list[Release] = []
    if edge_site is not None:
        activities = edge_activities(settings, edge_site, releases)
        return PlantWorker(client, releases=releases, task_queue=f"edge-{edge_site}", activities=activities,
                           max_concurrent_activities=max_concurrent_activities)
    task_queue = queue or settings.task_queue
    messaging = MessagingActivities(client, task_queue, store)
    return PlantWorker(
        client,
        releases=releases,
        task_queue=task_queue,
        workflows=[BpmnProcess, MessageMailbox],
        activities=[*cloud_activities(settings, releases), *messaging.all(), *ProcessActivities(store, client).all()],
        workflow_runner=sandbox_runner(),
        max_concurrent_activities=max_concurrent_activities,
    )


async def run_worker(settings: Settings, queue: str | None, edge_site: str | None) -> None:
    client = await temporal_connection.connect(settings)
    if edge_site is None:  # refuse to start rather than stall every instance (PlantWorker.run only logs)
        try:
            added = await instance_list.register_search_attributes(client)
        except RPCError as exc:
            raise SystemExit(f"worker: cannot register the instances' search attributes in namespace "
                             f"{client.namespace} ({exc.message}); run the commands of the README's "
                             "'Temporal cluster' section") from None
        if added:
            _log.info("registered search attributes %s in namespace %s", ", ".join(added), client.namespace)
    worker = build_worker(client, settings, queue=queue, edge_site=edge_site)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        heap.settle()  # imports, specs and the worker's start-up stay out of later full collections
        where = f"edge-{edge_site}" if edge_site else queue or settings.task_queue
        _log.info("worker on %s, queue %s", settings.temporal_address, where)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smart MOM Temporal worker")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--queue", help="task queue of the cloud worker (default: MOM_TASK_QUEUE or 'mom')")
    group.add_argument("--edge", metavar="SITE", help="run only machine activities, on queue edge-SITE")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)
    asyncio.run(run_worker(load_settings(), args.queue, args.edge))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
