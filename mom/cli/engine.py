"""Process commands: lint, deploy, start, instances, tasks, complete, retry, state, run."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from bpmn.deploy import decisions_for
from bpmn.errors import BpmnError
from bpmn.lint import lint_diagram
from mom import instances
from mom.cli.common import connect, console, errors, parse_json_arg, parse_vars, print_json, run_async, settings
from mom.deployment import deploy_file
from mom.process_store import ProcessStore
from mom.task_catalog import CATALOG, known_task_types


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("lint", help="check diagrams before deploying them")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lint)

    p = subparsers.add_parser("task-types", help="the service-task types a diagram may name (zeebe:taskDefinition)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_task_types)

    p = subparsers.add_parser("deploy", help="lint and deploy a diagram as a new process version")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--process-id")
    p.add_argument("--by", default="cli", help="who deploys (recorded with the version)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_deploy)

    p = subparsers.add_parser("schedules", help="create/update the Temporal Schedules of timer start events")
    p.add_argument("process_id", metavar="PROCESS_ID")
    p.set_defaults(func=cmd_schedules)

    p = subparsers.add_parser("start", help="start an instance of a deployed process")
    p.add_argument("process_id", metavar="PROCESS_ID")
    p.add_argument("--var", action="append", metavar="NAME=VALUE")
    p.add_argument("--business-key")
    p.add_argument("--version", type=int)
    p.add_argument("--wait", action="store_true", help="wait until the instance ends")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_start)

    p = subparsers.add_parser("instances", help="list process instances")
    p.add_argument("--process-id")
    p.add_argument("--status", choices=["running", "completed", "failed", "terminated", "canceled"])
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_instances)

    p = subparsers.add_parser("state", help="show one instance: elements, variables, tasks, incident")
    p.add_argument("instance", metavar="INSTANCE_ID")
    p.set_defaults(func=cmd_state)

    p = subparsers.add_parser("tasks", help="list pending user tasks of running instances")
    p.add_argument("--instance", metavar="INSTANCE_ID")
    p.add_argument("--limit", type=int, default=200, help="instances to look at")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tasks)

    p = subparsers.add_parser("complete", help="complete a user task with form data")
    p.add_argument("task_id", metavar="TASK_ID")
    p.add_argument("--data", default="{}", help="form data as a JSON object")
    p.add_argument("--instance", metavar="INSTANCE_ID", help="the task's instance (found when omitted)")
    p.add_argument("--user")
    p.add_argument("--password-stdin", action="store_true",
                   help="read --user's password from stdin: a task marked for e-signature needs it")
    p.set_defaults(func=cmd_complete)

    p = subparsers.add_parser("retry", help="retry an instance's incident, optionally fixing variables")
    p.add_argument("instance", metavar="INSTANCE_ID")
    p.add_argument("--var", action="append", metavar="NAME=VALUE")
    p.set_defaults(func=cmd_retry)

    p = subparsers.add_parser("message", help="publish a message to the instances waiting for it")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--key", help="correlation key (e.g. the order id)")
    p.add_argument("--var", action="append", metavar="NAME=VALUE")
    p.add_argument("--ttl", type=float, default=3600.0, help="seconds it is kept for instances that wait later")
    p.add_argument("--id", help="message id: publishing the same id twice delivers once")
    p.set_defaults(func=cmd_message)

    p = subparsers.add_parser("signal", help="broadcast a BPMN signal to every instance waiting for it now")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--var", action="append", metavar="NAME=VALUE")
    p.set_defaults(func=cmd_signal)

    from mom.cli import trial

    trial.register(subparsers)


def cmd_lint(args: argparse.Namespace) -> int:
    problems = []
    for path in args.files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            errors.print(f"{path}: cannot read: {exc.strerror}")
            return 2
        # the DMN files the diagram calls, as the deploy and 'mom run' compile them
        problems.extend(lint_diagram(data, str(path), known_task_types(), decisions_for(path, data)))
    if args.json:
        print_json([p.__dict__ for p in problems])
    else:
        for problem in problems:
            console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        if not problems:
            console.print(f"[green]ok[/green]: {len(args.files)} diagram(s), no problems")
    return 1 if any(p.severity == "error" for p in problems) else 0


def cmd_task_types(args: argparse.Namespace) -> int:
    rows = [{"name": t.name, "summary": t.summary, "runs": t.runs, "inputs": list(t.inputs)}
            for t in sorted(CATALOG.values(), key=lambda t: t.name)]
    if args.json:
        print_json(rows)
        return 0
    table = Table("type", "runs", "inputs", "what it does")
    for row in rows:
        table.add_row(Text(str(row["name"])), Text(str(row["runs"])), Text(", ".join(row["inputs"])),
                      Text(str(row["summary"])))
    console.print(table)
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    store = ProcessStore.for_settings(settings())
    try:
        deployment = deploy_file(store, args.file, deployed_by=args.by, process_id=args.process_id)
    except BpmnError as exc:
        for problem in exc.problems:
            errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        return 1
    v = deployment.version
    if args.json:
        print_json({"process_id": v.process_id, "version": v.version, "spec_sha256": v.spec_sha256,
                    "created": deployment.created})
    else:
        what = "deployed" if deployment.created else "unchanged, still"
        console.print(f"{v.process_id}: {what} version {v.version} (spec {v.spec_sha256[:12]})", markup=False)
    return _deploy_schedules(store, v.process_id, quiet=args.json)


def _deploy_schedules(store: ProcessStore, process_id: str, *, quiet: bool) -> int:
    """Timer start events: create/update their Temporal Schedules when a Temporal server answers."""
    from mom.schedules import sync_schedules, timer_starts

    latest = store.latest(process_id)
    if latest is None or not timer_starts(store.load_source(latest.source_sha256), process_id):
        return 0
    cfg = settings()

    async def sync() -> list[str]:
        from mom.temporal_connection import connect

        client = await asyncio.wait_for(connect(cfg), 5)
        return await sync_schedules(client, store, process_id, task_queue=cfg.task_queue)

    try:
        ids = run_async(sync())
    except Exception as exc:
        errors.print(f"timer start schedules not updated (Temporal at {cfg.temporal_address}: {exc}); "
                     f"run 'mom schedules {process_id}' when it is up", markup=False)
        return 0
    if not quiet:
        console.print(f"{process_id}: schedules {', '.join(ids)}")
    return 0


def cmd_schedules(args: argparse.Namespace) -> int:
    return _deploy_schedules(ProcessStore.for_settings(settings()), args.process_id, quiet=False)


def cmd_start(args: argparse.Namespace) -> int:
    cfg = settings()

    async def start() -> int:
        client = await connect(cfg)
        try:
            started = await instances.start_instance(
                client, ProcessStore.for_settings(cfg), args.process_id, task_queue=cfg.task_queue,
                variables=parse_vars(args.var), business_key=args.business_key, version=args.version,
                started_by="cli",
            )
        except instances.ProcessNotDeployed as exc:
            errors.print(str(exc), markup=False)
            return 1
        out: dict[str, Any] = {"instance_id": started.workflow_id, "process_id": started.process_id,
                               "version": started.version}
        if args.wait:
            result = await instances.wait_result(client, started.workflow_id)
            out.update(status=result.status, variables=result.variables, completed=result.completed)
        if args.json:
            print_json(out)
        else:
            console.print(f"started {started.workflow_id} ({started.process_id} v{started.version})", markup=False)
            if args.wait:
                console.print(f"{out['status']}: {out['variables']}", markup=False)
        return 0

    return run_async(start())


_STATUS = {"running": "Running", "completed": "Completed", "failed": "Failed",
           "terminated": "Terminated", "canceled": "Canceled"}


def cmd_instances(args: argparse.Namespace) -> int:
    cfg = settings()

    async def listing() -> int:
        client = await connect(cfg)
        query = "WorkflowType = 'BpmnProcess'"
        if args.status:
            query += f" AND ExecutionStatus = '{_STATUS[args.status]}'"
        rows = []
        async for wf in client.list_workflows(query, limit=args.limit):
            process_id = (await wf.memo_value("process_id", default=None)) if wf.memo else None
            if args.process_id and process_id != args.process_id:
                continue
            rows.append({"instance_id": wf.id, "process_id": process_id, "status": wf.status.name.lower()
                         if wf.status else None, "started": wf.start_time.isoformat()})
        if args.json:
            print_json(rows)
            return 0
        table = Table("instance", "process", "status", "started")
        for row in rows:
            table.add_row(Text(row["instance_id"]), Text(str(row["process_id"])), Text(str(row["status"])),
                          Text(row["started"]))
        console.print(table)
        return 0

    return run_async(listing())


def cmd_state(args: argparse.Namespace) -> int:
    cfg = settings()

    async def show() -> int:
        client = await connect(cfg)
        print_json(await instances.instance_state(client, args.instance))
        return 0

    return run_async(show())


async def _running_ids(client: Any, limit: int, task_queue: str) -> list[str]:
    ids = []
    async for wf in client.list_workflows(
        f"WorkflowType = 'BpmnProcess' AND ExecutionStatus = 'Running' AND TaskQueue = '{task_queue}'", limit=limit
    ):
        ids.append(wf.id)
    return ids


async def _pending_tasks(client: Any, workflow_id: str) -> list[dict[str, Any]]:
    """The instance's pending user tasks; an instance that does not answer is named, not fatal."""
    from temporalio.service import RPCError

    try:
        return await instances.user_tasks(client, workflow_id)
    except (RPCError, instances.InstanceNotFound) as exc:
        errors.print(f"{workflow_id}: no answer ({exc}); skipped", markup=False)
        return []


def cmd_tasks(args: argparse.Namespace) -> int:
    cfg = settings()

    async def listing() -> int:
        client = await connect(cfg)
        ids = [args.instance] if args.instance else await _running_ids(client, args.limit, cfg.task_queue)
        rows = []
        for wid in ids:
            for task in await _pending_tasks(client, wid):
                rows.append({"instance_id": wid, **task})
        if args.json:
            print_json(rows)
            return 0
        console.print(tasks_table(rows))
        return 0

    return run_async(listing())


def tasks_table(rows: list[dict[str, Any]]) -> Table:
    """Pending user tasks; names and groups come from the diagram and are shown as written."""
    table = Table("task id", "instance", "element", "name", "groups", "assignee")
    for row in rows:
        table.add_row(*(Text(str(v)) for v in (row["task_id"], row["instance_id"], row["element_id"],
                                                 row["name"] or "", ",".join(row["candidate_groups"] or []),
                                                 row["assignee"] or "")))
    return table


def cmd_complete(args: argparse.Namespace) -> int:
    cfg = settings()
    data = parse_json_arg(args.data, "--data")

    async def complete() -> int:
        client = await connect(cfg)
        wid = args.instance
        if wid is None:
            for candidate in await _running_ids(client, 1000, cfg.task_queue):
                if any(t["task_id"] == args.task_id for t in await _pending_tasks(client, candidate)):
                    wid = candidate
                    break
            if wid is None:
                errors.print(f"task {args.task_id} is not pending in any running instance", markup=False)
                return 1
        pending = [t for t in await _pending_tasks(client, wid) if t["task_id"] == args.task_id]
        meaning = pending[0].get("signature") if pending else None
        if meaning and not _signed(cfg, args, meaning):
            return 1
        try:
            result = await instances.complete_user_task(client, wid, args.task_id, data, args.user,
                                                        proof_key=cfg.update_proof_key, signature=meaning)
        except instances.TaskRefused as exc:
            errors.print(f"refused ({exc.kind}): {exc}", markup=False)
            for field, message in exc.errors.items():
                errors.print(f"  {field}: {message}", markup=False)
            return 1
        console.print(f"{result['element_id']}: {result['status']}", markup=False)
        return 0

    return run_async(complete())


def _signed(cfg: Any, args: argparse.Namespace, meaning: str) -> bool:
    """A task marked for an e-signature (issue J.3): only with ``--user`` and ``--password-stdin``
    whose password matches that user's in the database; refused, naming the task, otherwise. The
    password is read, checked and dropped (never sent to the workflow)."""
    import sys

    from mom.db import create_database_engine, create_session_factory
    from mom.db.transactions import reading
    from mom.users import find_user, verify_password

    ref = f"task {args.task_id} needs an electronic signature ({meaning})"
    if not args.user or not args.password_stdin:
        errors.print(f"refused: {ref}: give --user and --password-stdin, or complete it in the inbox or "
                     "through the REST API (POST /tasks/{id}/complete with the password)", markup=False)
        return False
    password = sys.stdin.readline().rstrip("\r\n")
    engine = create_database_engine(cfg.effective_database_url)
    try:
        with reading(create_session_factory(engine)) as session:
            account = find_user(session, username=args.user)
            ok = bool(password) and account is not None and account.active and verify_password(
                account.password_hash, password)
    finally:
        engine.dispose()
    if not ok:
        errors.print(f"refused: {ref}: wrong password for {args.user}; the task was not completed", markup=False)
    return ok


def cmd_retry(args: argparse.Namespace) -> int:
    cfg = settings()

    async def retry() -> int:
        client = await connect(cfg)
        try:
            await instances.retry_incident(client, args.instance, parse_vars(args.var), "cli",
                                           proof_key=cfg.update_proof_key)
        except instances.TaskRefused as exc:
            errors.print(f"refused: {exc}", markup=False)
            return 1
        console.print(f"{args.instance}: retrying", markup=False)
        return 0

    return run_async(retry())


def cmd_signal(args: argparse.Namespace) -> int:
    from mom.messages import broadcast_signal

    cfg = settings()

    async def broadcast() -> int:
        client = await connect(cfg)
        signal = await broadcast_signal(client, args.name, parse_vars(args.var), task_queue=cfg.task_queue)
        console.print(f"broadcast signal {signal.name} (id {signal.message_id})", markup=False)
        return 0

    return run_async(broadcast())


def cmd_message(args: argparse.Namespace) -> int:
    from mom.messages import publish_message

    cfg = settings()

    async def publish() -> int:
        client = await connect(cfg)
        message = await publish_message(client, args.name, args.key, parse_vars(args.var), task_queue=cfg.task_queue,
                                        ttl_seconds=args.ttl, message_id=args.id, store=ProcessStore.for_settings(cfg))
        console.print(f"published {message.name} (key {message.key}, id {message.message_id})", markup=False)
        return 0

    return run_async(publish())
