"""What the person running ``mom demo`` sees: rich progress bars while the shift runs, then the
summary tables (orders, machines with OEE, tasks by role, incidents)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from mom.demo.scenario import ShiftProgress, ShiftReport

T = TypeVar("T")


async def with_progress(console: Console, progress: ShiftProgress, work: Coroutine[Any, Any, T],
                        refresh_s: float = 0.25) -> T:
    """Run ``work`` while progress bars follow ``progress``."""
    bars = Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[note]}"), TimeElapsedColumn(), console=console, transient=False)
    rows: dict[str, TaskID] = {}
    with bars:
        for name in ("orders released", "orders completed", "human tasks done", "incidents handled"):
            rows[name] = bars.add_task(name, total=None, note="")
        job = asyncio.ensure_future(work)
        while not job.done():
            _update(bars, rows, progress)
            await asyncio.wait({job}, timeout=refresh_s)
        _update(bars, rows, progress)
    return job.result()


def _update(bars: Progress, rows: dict[str, TaskID], p: ShiftProgress) -> None:
    total = len(p.orders) or None
    released = sum(1 for o in p.orders.values() if o.status != "waiting")
    bars.update(rows["orders released"], total=total, completed=released, note=p.phase)
    failed = p.count("incident", "failed", "timed out")
    bars.update(rows["orders completed"], total=total, completed=p.count("completed"),
                note=f"[red]{failed} failed[/]" if failed else "")
    expected = 4 * len(p.orders) + len(p.incidents)
    done = p.ledger.total
    bars.update(rows["human tasks done"], total=max(expected, done), completed=done,
                note=", ".join(f"{role} {n}" for role, n in sorted(p.ledger.by_role().items())))
    running = [i.kind for i in p.incidents if i.status == "running"]
    bars.update(rows["incidents handled"], total=len(p.incidents) or None,
                completed=sum(1 for i in p.incidents if i.ended), note=", ".join(running))


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


def summary(report: ShiftReport) -> Group:
    orders = Table(title="Shift summary", show_header=False)
    orders.add_column("what")
    orders.add_column("value", justify="right")
    done = report.orders_done
    latencies = sorted(o.latency_s for o in report.orders if o.latency_s is not None)
    orders.add_row("orders done", f"{done} / {len(report.orders)}")
    orders.add_row("pieces ordered", str(sum(o.quantity for o in report.orders)))
    if latencies:
        orders.add_row("order lead time p50 / max", f"{latencies[len(latencies) // 2]:.1f} s / {latencies[-1]:.1f} s")
    orders.add_row("shift duration", f"{report.duration_s:.1f} s")
    orders.add_row("human tasks done", str(report.ledger.total))
    orders.add_row("data directory", report.data_dir)

    machines = Table(title="Machines: OEE per shift of the calendar (ISO 22400, what elapsed of the shift)")
    for column in ("machine", "shift", "planned s", "jobs", "good pcs", "availability", "performance", "quality",
                   "OEE"):
        machines.add_column(column, justify="left" if column in ("machine", "shift") else "right")
    for m in report.machines:
        shift = f"{m.shift} {m.shift_starts_at:%H:%M}Z" if m.shift_starts_at else (m.shift or "-")
        planned = "-" if m.planned_busy_time_s is None else f"{m.planned_busy_time_s:.1f}"
        machines.add_row(m.machine, shift, planned, str(m.jobs), str(m.good), _percent(m.availability),
                         _percent(m.performance), _percent(m.quality), _percent(m.oee))

    tasks = Table(title="Human tasks")
    for column in ("role", "task", "done"):
        tasks.add_column(column, justify="right" if column == "done" else "left")
    for (role, element), count in sorted(report.ledger.done.items()):
        tasks.add_row(role, element, str(count))

    incidents = Table(title="Incidents")
    for column in ("incident", "subject", "process instance", "status", "note"):
        incidents.add_column(column)
    for i in report.incidents:
        style = "green" if i.status == "completed" else "yellow" if i.as_expected else "red"
        incidents.add_row(i.kind, i.subject, i.workflow_id or "-", f"[{style}]{i.status}[/]", i.note)

    parts: list[Any] = [orders, machines, tasks, incidents]
    failed = [o for o in report.orders if not (o.status == "completed" and o.record_status == "completed")]
    if failed:
        bad = Table(title="Orders not done", style="red")
        for column in ("order", "instance", "process", "record"):
            bad.add_column(column)
        for o in failed:
            bad.add_row(o.number, o.workflow_id or "-", o.status, o.record_status)
        parts.append(bad)
    if report.mismatches:
        parts.append(Group(f"[yellow]{len(report.mismatches)} job(s) ran on another machine or recipe than their "
                           "records say[/] (changes made after the order started):",
                           *(f"  {m}" for m in report.mismatches[:10])))
    if report.problems:
        parts.append(Group(*(f"[red]problem:[/] {p}" for p in report.problems)))
    verdict = "[bold green]everything that should complete did[/]" if report.ok else \
        "[bold red]the shift did not complete as it should[/]"
    parts.append(verdict)
    return Group(*parts)
