"""Benchmark: completed instances/s of a 3-service-task BPMN process vs a hand-written Temporal workflow.

    .venv/bin/python bench/engine.py [--instances 200] [--rounds 2] [--pragmas wal|none|memory] [--local]
                                     [--shape-instances 20]

Then two wide shapes, each beside a plain workflow doing the same work: a 20-branch parallel
split/join and a 50-instance parallel multi-instance (one mom.log per branch/instance). For each:
instances/s, history bytes per activity, and the BPMN engine's serialized state per task.

Both run in one go against the same dev server and worker, alternating (plain, BPMN, plain, BPMN...),
and the script prints both rates and the ratio BPMN / plain (target >= 0.95). ``--local`` runs the
three steps as local activities in both (fewer events per instance).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from plain_workflow import PlainThreeSteps  # noqa: E402

from activities.trying import TRYING_ACTIVITIES  # noqa: E402
from mom import instances  # noqa: E402
from mom.deployment import deploy_bytes  # noqa: E402
from mom.process_store import ProcessStore  # noqa: E402
from mom.settings import load_settings  # noqa: E402
from mom.stack.temporal_server import DEFAULT_PRAGMAS, TemporalDevServer, connect_when_ready  # noqa: E402
from worker import build_worker, sandbox_runner  # noqa: E402

console = Console()
WIDE = {"parallel_20": 20, "multi_instance_50": 50}


def wide_diagram(shape: str) -> str:
    """The BPMN side of a wide shape (written to bench/diagrams/<shape>.bpmn too, for reading)."""
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
            '20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="D" targetNamespace="x">\n'
            f'<bpmn:process id="{shape}" isExecutable="true"><bpmn:startEvent id="start" />\n')
    log = ('<bpmn:extensionElements><zeebe:taskDefinition type="mom.log" /><zeebe:ioMapping>'
           '<zeebe:input source="=&quot;step {}&quot;" target="message" />'
           '<zeebe:output source="=logged" target="{}" /></zeebe:ioMapping></bpmn:extensionElements>')
    body = []
    if shape == "parallel_20":
        body.append('<bpmn:parallelGateway id="split" /><bpmn:parallelGateway id="join" /><bpmn:endEvent id="end" />')
        body.append('<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="split" />'
                    '<bpmn:sequenceFlow id="fe" sourceRef="join" targetRef="end" />')
        for i in range(20):
            body.append(f'<bpmn:serviceTask id="b{i}">{log.format(i, f"done_{i}")}</bpmn:serviceTask>'
                        f'<bpmn:sequenceFlow id="s{i}" sourceRef="split" targetRef="b{i}" />'
                        f'<bpmn:sequenceFlow id="j{i}" sourceRef="b{i}" targetRef="join" />')
    else:
        body.append('<bpmn:serviceTask id="each">' + log.format("&quot; + str(item) + &quot;", "done")
                    + '<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics '
                    'inputCollection="=items" inputElement="item" outputCollection="results" outputElement="=done" />'
                    '</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>'
                    '<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="each" />'
                    '<bpmn:sequenceFlow id="f1" sourceRef="each" targetRef="end" />')
    return head + "\n".join(body) + "\n</bpmn:process></bpmn:definitions>\n"


@workflow.defn(name="PlainFanOut", sandboxed=False)
class PlainFanOut:
    """The plain baseline of the wide shapes: ``width`` mom.log activities at once, then join."""

    @workflow.run
    async def run(self, width: int) -> list[bool]:
        from datetime import timedelta

        results = await asyncio.gather(*(workflow.execute_activity(
            "mom.log", {"message": f"step {i}"}, start_to_close_timeout=timedelta(seconds=60)) for i in range(width)))
        return [bool(r["logged"]) for r in results]


def state_bytes_per_task(spec_json: str, variables: dict[str, object]) -> float:
    """Serialized engine state at the end of an in-process run, divided by the service tasks run."""
    from bpmn.engine import ProcessRun
    from bpmn.spec_bundle import spec_from_json

    run = ProcessRun.start(spec_from_json(spec_json), dict(variables))
    run.advance()
    tasks = 0
    while calls := run.ready_service_calls():
        for call in calls:
            run.complete_service_task(call.task_id, {"logged": True})
            tasks += 1
    return len(run.serialize()) / max(tasks, 1)


async def history_bytes(client: Client, workflow_id: str) -> int:
    return len((await client.get_workflow_handle(workflow_id).fetch_history()).to_json())


async def bench_wide(client: Client, store: ProcessStore, queue: str, count: int) -> Table:
    table = Table(title=f"wide shapes, {count} concurrent instances each (mom.log per branch)")
    for column in ("shape", "workflow", "instances/s", "history bytes / activity", "engine state bytes / task"):
        table.add_column(column, justify="left" if column in ("shape", "workflow") else "right")
    for shape, width in WIDE.items():
        text = wide_diagram(shape)
        (HERE / "diagrams" / f"{shape}.bpmn").write_text(text)
        deployment = deploy_bytes(store, text.encode(), f"{shape}.bpmn", deployed_by="bench")
        variables = {"items": list(range(width))} if shape == "multi_instance_50" else {}
        ids: list[str] = []

        async def start_bpmn(i: int, shape: str = shape, variables: dict[str, object] = variables,
                             ids: list[str] = ids) -> object:
            started = await instances.start_instance(client, store, shape, task_queue=queue, variables=variables)
            ids.append(started.workflow_id)
            return instances.wait_result(client, started.workflow_id)

        async def start_plain(i: int, width: int = width, ids: list[str] = ids) -> object:
            handle = await client.start_workflow(PlainFanOut.run, width, id=f"plain-{uuid.uuid4().hex}",
                                                 task_queue=queue + "-plain")
            ids.append(handle.id)
            return handle.result()

        for name, start in (("plain Temporal", start_plain), ("BPMN (BpmnProcess)", start_bpmn)):
            ids.clear()
            rate = await run_batch(client, count, start)
            size = await history_bytes(client, ids[0]) / width
            state = state_bytes_per_task(deployment.compiled.spec_json, variables) if name.startswith("BPMN") else None
            table.add_row(shape, name, f"{rate:.1f}", f"{size:.0f}", "-" if state is None else f"{state:.0f}")
    return table


async def run_batch(client: Client, count: int, start_one: object) -> float:
    started = time.perf_counter()
    handles = await asyncio.gather(*(start_one(i) for i in range(count)))  # type: ignore[operator]
    await asyncio.gather(*(h for h in handles))
    return count / (time.perf_counter() - started)


async def bench(args: argparse.Namespace) -> int:
    logging.getLogger("mom.process").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        data_dir = Path(tmp)
        pragmas = {"wal": DEFAULT_PRAGMAS, "none": ()}.get(args.pragmas, ())
        server = TemporalDevServer(db_file=None if args.pragmas == "memory" else data_dir / "temporal.db",
                                   pragmas=pragmas).start()
        try:
            client = await connect_when_ready(server.address)
            store = ProcessStore(data_dir)
            diagram = (HERE / "diagrams" / "three_steps.bpmn").read_text()
            if args.local:
                diagram = diagram.replace('<zeebe:taskDefinition type="mom.log" />',
                                          '<zeebe:taskDefinition type="mom.log" /><zeebe:taskHeaders>'
                                          '<zeebe:header key="local" value="true" /></zeebe:taskHeaders>')
            deploy_bytes(store, diagram.encode(), "three_steps.bpmn", deployed_by="bench")
            queue = f"bench-{uuid.uuid4().hex[:8]}"
            settings = load_settings(data_dir=data_dir)
            bpmn_worker = build_worker(client, settings, queue=queue, max_concurrent_activities=400)
            plain_worker = Worker(client, task_queue=queue + "-plain", workflows=[PlainThreeSteps, PlainFanOut],
                                  activities=list(TRYING_ACTIVITIES), workflow_runner=sandbox_runner(),
                                  max_concurrent_activities=400)

            async def start_bpmn(i: int) -> object:
                started = await instances.start_instance(client, store, "three_steps", task_queue=queue,
                                                         variables={"order_id": f"PO-{i}"})
                return instances.wait_result(client, started.workflow_id)

            async def start_plain(i: int) -> object:
                handle = await client.start_workflow(PlainThreeSteps.run, {"order_id": f"PO-{i}", "_local": args.local},
                                                     id=f"plain-{uuid.uuid4().hex}", task_queue=queue + "-plain")
                return handle.result()

            rates: dict[str, list[float]] = {"plain": [], "bpmn": []}
            async with bpmn_worker, plain_worker:
                await run_batch(client, 20, start_plain)  # warm up both paths
                await run_batch(client, 20, start_bpmn)
                for _ in range(args.rounds):
                    rates["plain"].append(await run_batch(client, args.instances, start_plain))
                    rates["bpmn"].append(await run_batch(client, args.instances, start_bpmn))
                wide = await bench_wide(client, store, queue, args.shape_instances)
        finally:
            server.stop()
    plain, bpmn = statistics.median(rates["plain"]), statistics.median(rates["bpmn"])
    table = Table(title=f"3 service tasks, {args.instances} concurrent instances x {args.rounds} rounds, "
                        f"server storage: {args.pragmas}, local activities: {args.local}")
    table.add_column("workflow")
    table.add_column("instances/s (median)", justify="right")
    table.add_column("rounds", justify="right")
    table.add_row("plain Temporal", f"{plain:.1f}", ", ".join(f"{r:.1f}" for r in rates["plain"]))
    table.add_row("BPMN (BpmnProcess)", f"{bpmn:.1f}", ", ".join(f"{r:.1f}" for r in rates["bpmn"]))
    console.print(table)
    console.print(f"ratio BPMN / plain = {bpmn / plain:.2f} (target >= 0.95)")
    console.print(wide)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pragmas", choices=["wal", "none", "memory"], default="wal")
    parser.add_argument("--local", action="store_true", help="run the steps as local activities")
    parser.add_argument("--shape-instances", type=int, default=20, help="instances per wide shape")
    return asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
