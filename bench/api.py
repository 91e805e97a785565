"""Benchmark: the inbox list with 10,000 open tasks, and task completion -> next activity started,
under concurrent load from a second process on loopback.

    .venv/bin/python bench/api.py [--open-tasks 10000] [--rate 40] [--seed 1] [--flow-rate 2] [--instances 120]
                                  [--flows-at-once N]
                                  [--readers N] [--api-workers 2] [--warm-up 5] [--database-url URL]

Child processes serve the API (uvicorn, ``--api-workers`` processes) and run the Temporal worker;
this process is the load: the inbox is listed (``GET /tasks``, page of 50, as a supervisor who sees
all 10,000) while instances of a two-step process are started and their first task completed through
``POST /tasks/{id}/complete``. Printed: p50/p99 of the inbox list, of the completion call (it
returns once the workflow accepted the update and scheduled the next activity) and of the
handoff (completion -> the next user task, after a service activity, visible in the inbox).
Target: p99 < 150 ms.

Two kinds of inbox load, stated with the figures:

* open loop (the default): list requests arrive at ``--rate`` per second (40/s: about 200 supervisors
  and operators refreshing their inbox every 5 s), on a fixed schedule with a jitter of up to half an
  interval either way from a seeded RNG (``--seed``). Each request is due at its scheduled time whether
  or not the earlier ones have answered (it goes out on the next free one of 64 connections), and its
  latency is measured from the scheduled time, so time spent queued (in the API, or in this process)
  is counted: no coordinated omission. This is what a
  plant's people see at that rate.
* closed loop (``--readers N``): N readers without think time, each sending its next request when the
  last one answered: a saturation test, where latency is about concurrency x service time.

The flows run open loop too (default): an instance started every 1/``--flow-rate`` s (2/s: each of
those 200 people completing a task every 100 s, 7,200 completions an hour) on the same kind of jittered
schedule, whether or not the earlier ones finished; or, with ``--flows-at-once N``, N at a time without
pause (a saturation test of the engine: the Temporal server and worker take the CPUs the API needs). All load comes from
this process; the API, the Temporal worker and the Temporal server are other processes on the same
CPUs. Before the measured run, the same load runs for ``--warm-up`` seconds (5) once the API answers: a
plant's API has been up for hours, so its first requests (each process's pools, caches and code paths
still cold) are shown on a line of their own, not mixed into the figures. Also
printed: the API processes' CPU time per request, and the machine's load average before and after
(other work on the machine slows every figure).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from raw_http import HttpError, RawConnection  # noqa: E402

from mom.db import create_database_engine, create_session_factory  # noqa: E402
from mom.db.inbox import open_workflow_tasks  # noqa: E402
from mom.db.migrate import upgrade_engine  # noqa: E402
from mom.deployment import deploy_bytes  # noqa: E402
from mom.process_store import ProcessStore  # noqa: E402
from mom.stack.ports import free_port, wait_for_port  # noqa: E402
from mom.stack.temporal_server import TemporalDevServer  # noqa: E402
from mom.users import add_user  # noqa: E402

PASSWORD = "load-test-inbox-9274"
TARGET_P99_MS = 150.0
TOTAL = re.compile(rb'"total":\s*(\d+)')
SENDERS = 64  # open loop: client connections the scheduled inbox requests go out on
TWO_STEPS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="two_steps" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="check" name="Check"><bpmn:extensionElements>
      <zeebe:assignmentDefinition candidateGroups="supervisors" /></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:serviceTask id="record" name="Record"><bpmn:extensionElements>
      <zeebe:taskDefinition type="mom.log" />
      <zeebe:ioMapping><zeebe:input source="=&quot;checked&quot;" target="message" /></zeebe:ioMapping>
      </bpmn:extensionElements><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:userTask id="confirm" name="Confirm"><bpmn:extensionElements>
      <zeebe:assignmentDefinition candidateGroups="supervisors" /></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="record" />
    <bpmn:sequenceFlow id="f3" sourceRef="record" targetRef="confirm" />
    <bpmn:sequenceFlow id="f4" sourceRef="confirm" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def serve_worker() -> None:
    """A child process: the Temporal worker (cloud queue), settings from MOM_*."""
    from temporalio.client import Client

    from mom import heap
    from mom.settings import load_settings
    from worker import build_worker

    async def main() -> None:
        settings = load_settings()
        client = await Client.connect(settings.temporal_address)
        async with build_worker(client, settings):
            heap.settle()  # as worker.py does
            await asyncio.Event().wait()

    asyncio.run(main())


def api_command(port: int, workers: int) -> list[str]:
    """uvicorn serving ``api.app:create_app`` (settings from MOM_*) in ``workers`` processes."""
    return [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]


def seed(database_url: str, data_dir: Path, open_tasks: int) -> None:
    engine = create_database_engine(database_url)
    upgrade_engine(engine)
    sessions = create_session_factory(engine)
    with sessions() as session, session.begin():
        add_user(session, username="bench", password=PASSWORD, actor="bench", roles=["supervisor"],
                 groups=["supervisors"])
    for start in range(0, open_tasks, 1000):
        with sessions() as session, session.begin():
            for i in range(start, min(start + 1000, open_tasks)):
                open_workflow_tasks(session, workflow_id=f"seeded-{i}", process_key="seeded", business_key=f"S-{i}",
                                    tasks=[{"task_id": str(uuid.uuid4()), "element_id": "inspect",
                                            "name": f"Inspect lot {i}", "candidate_groups": ["supervisors"],
                                            "priority": i % 100, "due_date": None if i % 3 else "2020-01-01T00:00:00",
                                            "form_schema": {"type": "object"}}])
    engine.dispose()
    deploy_bytes(ProcessStore(data_dir), TWO_STEPS, "two_steps.bpmn", deployed_by="bench")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid`` and its children (uvicorn's worker processes), Linux only."""
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for each in [pid, *map(int, children)]:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


LIST = "inbox list"
COMPLETE = "complete task"
HANDOFF = "complete -> next task in inbox"


def schedule(rate: float, rng: random.Random) -> Iterator[float]:
    """Offsets (s) of an open-loop arrival schedule: one every 1/rate s, each moved by up to half an
    interval either way (so the order and the mean rate are kept)."""
    interval = 1.0 / rate
    n = 0
    while True:
        yield n * interval + rng.uniform(-0.5, 0.5) * interval + interval / 2
        n += 1


class Load:
    """What one run measured."""

    def __init__(self) -> None:
        self.timings: dict[str, list[float]] = {LIST: [], COMPLETE: [], HANDOFF: []}
        self.requests = 0  # all requests sent (polls for tasks included)
        self.lists_scheduled = 0
        self.elapsed = 0.0  # s from the start of the load to its end (the last answer)
        self.send_window = 0.0  # open loop: s from the start of the schedule to the last list request sent
        self.failures: list[str] = []
        self.max_send_lag_ms = 0.0  # open loop: the latest a list request left this process after its time


async def load(base: str, readers: int | None, rate: float, flow_rate: float | None, instances: int,
               seed: int, open_tasks: int = 10_000, at_once: int = 4, phase: str = "B") -> Load:
    """Inbox lists (open loop at ``rate``/s, or ``readers`` closed-loop readers) while ``instances``
    flows run (open loop at ``flow_rate``/s, or ``at_once`` at a time when it is None); the instances'
    business keys start with ``phase``."""
    result = Load()

    async def count(_request: httpx.Request) -> None:
        result.requests += 1

    # the open loop sends through SENDERS connections fed by a queue: a request waiting for one is still timed
    # from its scheduled send time. The inbox lists go out on bench/raw_http.py's connections, the flows on
    # httpx: httpx took as much CPU per request as the API serving it, from the same 2 cores.
    host, port = base.removeprefix("http://").rsplit(":", 1)[0], int(base.rsplit(":", 1)[1])
    limits = httpx.Limits(max_connections=SENDERS + 8, max_keepalive_connections=SENDERS + 8)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits,
                                 event_hooks={"request": [count]}) as http:
        token = (await http.post("/auth/token", data={"username": "bench", "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        stop = asyncio.Event()
        rng = random.Random(seed)
        failures: list[str] = []

        async def list_once(connection: RawConnection, t0: float) -> None:
            result.requests += 1
            try:
                status, body = await connection.get("/tasks?limit=50")
            except HttpError as error:  # counted and shown: under overload a refused request is a result
                failures.append(f"GET /tasks: {error}")
                return
            result.timings[LIST].append((time.perf_counter() - t0) * 1000)
            total = TOTAL.search(body)
            if status != 200 or total is None or int(total.group(1)) < open_tasks:
                failures.append(f"GET /tasks: {status} {body[:200]!r}")

        def connection() -> RawConnection:
            return RawConnection(host, port, headers)

        async def read() -> None:
            reader = connection()
            while not stop.is_set():
                await list_once(reader, time.perf_counter())
            await reader.close()

        async def arrivals() -> None:
            """Open loop: each list request is due at its scheduled time, whether or not the earlier ones
            answered; its latency counts from that time (queued here or in the API: no coordinated omission)."""
            start = time.perf_counter()
            due_times: asyncio.Queue[float | None] = asyncio.Queue()

            async def sender() -> None:
                sending = connection()
                while (due := await due_times.get()) is not None:
                    await list_once(sending, due)
                await sending.close()

            senders = [asyncio.create_task(sender()) for _ in range(SENDERS)]
            for offset in schedule(rate, rng):
                if stop.is_set():
                    break
                due = start + offset
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                result.max_send_lag_ms = max(result.max_send_lag_ms, (time.perf_counter() - due) * 1000)
                result.lists_scheduled += 1
                result.send_window = time.perf_counter() - start
                due_times.put_nowait(due)
            for _ in senders:
                due_times.put_nowait(None)
            await asyncio.gather(*senders)

        async def task_of(workflow_id: str, element_id: str) -> dict[str, object]:
            while True:
                items = (await http.get("/tasks", headers=headers, params={"workflow_id": workflow_id,
                                                                           "element_id": element_id})).json()["items"]
                if items:
                    return dict(items[0])
                await asyncio.sleep(0.005)

        async def flow(n: int) -> None:
            started = await http.post("/instances", headers=headers, json={"process_id": "two_steps",
                                                                           "business_key": f"{phase}-{n}"})
            workflow_id = started.json()["workflow_id"]
            task = await task_of(workflow_id, "check")
            t0 = time.perf_counter()
            done = await http.post(f"/tasks/{task['task_id']}/complete", headers=headers, json={"data": {}})
            result.timings[COMPLETE].append((time.perf_counter() - t0) * 1000)
            if done.status_code != 200:
                failures.append(f"POST /tasks/{task['task_id']}/complete: {done.status_code} {done.text[:200]}")
                return
            await task_of(workflow_id, "confirm")
            result.timings[HANDOFF].append((time.perf_counter() - t0) * 1000)

        async def flows() -> None:
            if flow_rate is None:
                for batch in range(0, instances, at_once):
                    await asyncio.gather(*(flow(n) for n in range(batch, min(batch + at_once, instances))))
                return
            start = time.perf_counter()
            started: list[asyncio.Task[None]] = []
            for n, offset in zip(range(instances), schedule(flow_rate, random.Random(seed + 1)), strict=False):
                await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
                started.append(asyncio.create_task(flow(n)))
            await asyncio.gather(*started)

        t_start = time.perf_counter()
        lists = [asyncio.create_task(read()) for _ in range(readers)] if readers else [asyncio.create_task(arrivals())]
        await flows()
        stop.set()
        await asyncio.gather(*lists)
        result.elapsed = time.perf_counter() - t_start
        result.failures = failures
        return result


def wait_until_serving(base: str, timeout_s: float) -> None:
    """Until the API answers (uvicorn's parent listens before its worker processes have loaded the app)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the API at {base} did not answer GET /health within {timeout_s:.0f} s")
        time.sleep(0.1)


def warm_up_instances(args: argparse.Namespace) -> int:
    """Instances of the warm-up: the same load as the run for about ``--warm-up`` seconds."""
    if args.warm_up <= 0:
        return 0
    if args.flows_at_once:
        return int(args.flows_at_once)
    return max(1, round(args.flow_rate * args.warm_up))


def verdict(value: float) -> str:
    return "target met" if value < TARGET_P99_MS else "target NOT met"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open-tasks", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=40.0,
                        help="open loop: inbox list requests per second (default 40: ~200 people refreshing every 5 s)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the arrival schedule's jitter")
    parser.add_argument("--readers", type=int,
                        help="closed-loop saturation run instead: this many inbox readers without think time")
    parser.add_argument("--flow-rate", type=float, default=2.0,
                        help="start instances open loop at this rate per second (default 2)")
    parser.add_argument("--flows-at-once", type=int,
                        help="closed-loop flows instead: this many at a time without pause (saturation)")
    parser.add_argument("--instances", type=int, default=120, help="instances whose task is completed")
    parser.add_argument("--api-workers", type=int, default=2,
                        help="uvicorn worker processes serving the API (default 2, as `mom up` starts it: "
                             "MOM_API_WORKERS)")
    parser.add_argument("--warm-up", type=float, default=5.0,
                        help="seconds of the same load before the measured run, printed apart (0: none)")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--serve-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_worker:
        serve_worker()
        return 0
    for name in ("rate", "flow_rate", "readers", "instances", "flows_at_once"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be > 0, got {value}")
    with tempfile.TemporaryDirectory(prefix="mom-bench-api-") as tmp:
        data_dir = Path(tmp) / "data"
        database_url = args.database_url or f"sqlite:///{data_dir / 'mom.db'}"
        t0 = time.perf_counter()
        seed(database_url, data_dir, args.open_tasks)
        print(f"seeded {args.open_tasks} open tasks in {time.perf_counter() - t0:.1f} s")
        temporal = TemporalDevServer(db_file=None).start()
        port = free_port()
        env = {**os.environ, "MOM_DATA_DIR": str(data_dir), "MOM_DATABASE_URL": database_url,
               "MOM_TEMPORAL_ADDRESS": temporal.address, "MOM_API_PORT": str(port), "MOM_ENVIRONMENT": "test",
               "MOM_SECRET_KEY": uuid.uuid4().hex * 2, "MOM_TASK_QUEUE": "bench"}
        children = [subprocess.Popen([sys.executable, __file__, "--serve-worker"], env=env),
                    subprocess.Popen(api_command(port, args.api_workers), env=env, cwd=HERE.parent)]
        try:
            wait_for_port("127.0.0.1", port, 60, "API")
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(base, 60)
            warm_instances = warm_up_instances(args)
            warm = (asyncio.run(load(base, args.readers, args.rate, None if args.flows_at_once else args.flow_rate,
                                     warm_instances, args.seed + 7, args.open_tasks, args.flows_at_once or 4, "W"))
                    if warm_instances else None)
            load_before = os.getloadavg()
            cpu_before = cpu_seconds(children[1].pid)
            assert temporal.process is not None
            others = {"worker": children[0].pid, "Temporal server": temporal.process.pid}
            others_before = {name: cpu_seconds(pid) for name, pid in others.items()}
            own_before = resource.getrusage(resource.RUSAGE_SELF)
            run = asyncio.run(load(base, args.readers, args.rate,
                                   None if args.flows_at_once else args.flow_rate, args.instances, args.seed,
                                   args.open_tasks, args.flows_at_once or 4))
            api_cpu = cpu_seconds(children[1].pid) - cpu_before
            others_cpu = {name: cpu_seconds(pid) - others_before[name] for name, pid in others.items()}
            own_after = resource.getrusage(resource.RUSAGE_SELF)
            own_cpu = own_after.ru_utime + own_after.ru_stime - own_before.ru_utime - own_before.ru_stime
            load_after = os.getloadavg()
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=20)
            temporal.stop()
    backend = "postgresql" if args.database_url and args.database_url.startswith("postgresql") else "sqlite"
    lists = len(run.timings[LIST])
    if args.readers:
        inbox = (f"closed-loop saturation: {args.readers} concurrent inbox readers without think time "
                 f"(achieved {lists / run.elapsed:.1f} lists/s)")
    else:
        inbox = (f"open loop: inbox lists scheduled at {args.rate:g}/s (jitter +/- half an interval, "
                 f"seed {args.seed}), achieved {run.lists_scheduled / max(run.send_window, 1e-9):.1f} sent/s "
                 f"({run.lists_scheduled} in {run.send_window:.1f} s), {lists / run.elapsed:.1f} answered/s; "
                 f"latency from the scheduled send time (schedule kept within {run.max_send_lag_ms:.0f} ms, "
                 f"{SENDERS} connections)")
    flows = (f"{args.instances} instances started and completed {args.flows_at_once} at a time (closed loop)"
             if args.flows_at_once else f"{args.instances} instances started at {args.flow_rate:g}/s (open loop)")
    print(f"{backend}, {args.api_workers} API worker process(es); load from this second process on loopback "
          f"for {run.elapsed:.1f} s: {inbox}; {flows} (each also polls the inbox for its task)")
    print(f"{os.cpu_count()} CPUs shared with the Temporal server and worker; load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; API CPU {api_cpu:.1f} s "
          f"for {run.requests} requests ({api_cpu * 1000 / max(run.requests, 1):.1f} ms each); "
          f"this load process {own_cpu:.1f} s CPU; "
          + ", ".join(f"{name} {cpu:.1f} s" for name, cpu in others_cpu.items())
          + f"; all four {(api_cpu + own_cpu + sum(others_cpu.values())) / run.elapsed:.2f} of {os.cpu_count()} CPUs")
    if warm is not None:
        print(f"warm-up before the figures ({warm.elapsed:.1f} s, not in them: the API's processes had just started): "
              + "; ".join(f"{name} n={len(values)} p99 {percentile(values, 0.99):.1f} ms"
                          for name, values in warm.timings.items() if name != HANDOFF)
              + (f"; {len(warm.failures)} failed, first: {warm.failures[0]}" if warm.failures else ""))
    if run.failures:
        print(f"{len(run.failures)} request(s) failed (not in the figures), first: {run.failures[0]}")
    print(f"{'measure':34} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9}  p99 < {TARGET_P99_MS:.0f} ms")
    ok = True
    for name, values in run.timings.items():
        p99 = percentile(values, 0.99)
        print(f"{name:34} {len(values):6d} {percentile(values, 0.5):9.1f} {p99:9.1f} "
              f"{statistics.fmean(values) if values else float('nan'):9.1f}  {verdict(p99)}")
        ok = ok and (name == HANDOFF or p99 < TARGET_P99_MS)
    ok = ok and not run.failures
    print(f"target p99 < {TARGET_P99_MS:.0f} ms (inbox list, completion; the handoff includes a service activity "
          f"and polling, shown for reference): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
