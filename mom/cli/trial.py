"""``mom run``: try a diagram end to end before deploying it for real.

Uses the running stack when Temporal answers at ``MOM_TEMPORAL_ADDRESS`` (its worker must share
``MOM_DATA_DIR``), else starts an embedded one (in-memory dev server + in-process worker) and
stops it afterwards. User tasks are completed with the data given per element id.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from temporalio.service import RPCError

from bpmn.errors import BpmnError
from mom import instances
from mom.cli.common import errors, parse_json_arg, parse_vars, print_json, run_async, settings
from mom.deployment import deploy_file
from mom.process_store import ProcessStore
from mom.settings import Settings
from mom.stack.ports import port_open


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("run", help="test-run a diagram to its end and print the outcome")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--process-id")
    p.add_argument("--var", action="append", metavar="NAME=VALUE")
    p.add_argument("--complete-user-tasks", default="{}", metavar="JSON",
                   help='form data per user-task element id, e.g. \'{"approve": {"approved": true}}\'')
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before giving up")
    p.add_argument("--embedded", action="store_true", help="always use an embedded stack")
    p.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    completions = parse_json_arg(args.complete_user_tasks, "--complete-user-tasks")
    if not isinstance(completions, dict):
        raise SystemExit("--complete-user-tasks: expected a JSON object of element id -> form data")
    outcome = run_async(trial(settings(), args.file, args.process_id, parse_vars(args.var), completions,
                              args.timeout, args.embedded))
    print_json(outcome)
    return 0 if outcome["status"] == "completed" else 1


async def trial(cfg: Settings, file: Path, process_id: str | None, variables: dict[str, Any],
                completions: dict[str, Any], timeout: float, embedded: bool) -> dict[str, Any]:
    host, _, port = cfg.temporal_address.rpartition(":")
    use_running = not embedded and port.isdigit() and port_open(host or "127.0.0.1", int(port))
    async with AsyncExitStack() as stack:
        if use_running:
            data_dir, address, queue = cfg.data_dir, cfg.temporal_address, cfg.task_queue
        else:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mom-run-")))
            address, queue = await _embedded(stack, cfg, data_dir)
        # the settings the worker runs with: its database has the deployed specs, its secret the key it
        # proves Updates with (a running stack: this install's settings, MOM_DATABASE_URL the stack's)
        run_cfg = cfg if use_running else cfg.model_copy(update={"data_dir": data_dir})
        store = ProcessStore.for_settings(run_cfg)
        proof_key = run_cfg.update_proof_key
        try:
            deployment = deploy_file(store, file, deployed_by="mom run", process_id=process_id)
        except BpmnError as exc:
            for problem in exc.problems:
                errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
            return {"status": "invalid", "problems": [str(p) for p in exc.problems],
                    "variables": {}, "completed": []}
        from mom.stack.temporal_server import connect_when_ready

        client = await connect_when_ready(address, cfg.temporal_namespace)
        started = await instances.start_instance(
            client, store, deployment.version.process_id, task_queue=queue, variables=variables,
            started_by="mom run", version=deployment.version.version,
        )
        return await _drive(client, started.workflow_id, completions, timeout, proof_key)
    raise AssertionError("unreachable")  # pragma: no cover


async def _embedded(stack: AsyncExitStack, cfg: Settings, data_dir: Path) -> tuple[str, str]:
    from mom.stack.temporal_server import TemporalDevServer, connect_when_ready
    from worker import build_worker

    server = TemporalDevServer(db_file=None, log_file=data_dir / "temporal.log").start()
    stack.callback(server.stop)
    client = await connect_when_ready(server.address)
    queue = "mom-run"
    worker = build_worker(client, cfg.model_copy(update={"data_dir": data_dir}), queue=queue)
    await stack.enter_async_context(worker)
    return server.address, queue


async def _drive(client: Any, workflow_id: str, completions: dict[str, Any], timeout: float,
                 proof_key: bytes) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    submitted: set[str] = set()
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            state = await asyncio.wait_for(instances.instance_state(client, workflow_id),
                                           max(deadline - time.monotonic(), 0.1))
        except (TimeoutError, RPCError):  # first workflow task not handled yet (a loaded machine)
            await asyncio.sleep(0.05)
            continue
        if state["status"] == "completed":
            result = await instances.wait_result(client, workflow_id)
            return {"status": "completed", "instance_id": workflow_id, "variables": result.variables,
                    "completed": result.completed}
        if state["status"] == "incident":
            return {"status": "incident", "instance_id": workflow_id, "incident": state["incident"],
                    "variables": state["variables"], "completed": state["completed"]}
        for task in state["user_tasks"]:
            if task["task_id"] in submitted or task["element_id"] not in completions:
                continue
            submitted.add(task["task_id"])
            try:
                await instances.complete_user_task(client, workflow_id, task["task_id"],
                                                   completions[task["element_id"]], "mom run",
                                                   proof_key=proof_key, signature=task.get("signature"))
            except instances.TaskRefused as exc:
                return {"status": "incident", "instance_id": workflow_id,
                        "incident": {"element_id": task["element_id"], "message": str(exc),
                                     "errors": exc.errors},
                        "variables": state["variables"], "completed": state["completed"]}
        await asyncio.sleep(0.05)
    return {"status": "timed out", "instance_id": workflow_id, "variables": state.get("variables", {}),
            "completed": state.get("completed", []), "active": state.get("active", []),
            "pending_user_tasks": [t["element_id"] for t in state.get("user_tasks", [])]}
