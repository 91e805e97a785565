"""An independent feasibility check of a plan against its problem.

Written apart from the decoder on purpose: it works on the plan's operations and the problem's
own objects only, so a decoder bug cannot hide itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mom.scheduling.model import OperationKey, ScheduledOperation, ShopProblem


def _setup_time(problem: ShopProblem, unit: str, before: str | None, after: str) -> int:
    if before is None:
        return 0
    time = 0
    for rule in problem.setups:
        if rule.from_family == before and rule.to_family == after:
            if rule.work_unit == unit:
                return rule.time
            if rule.work_unit is None:
                time = rule.time
    return time


def violations(problem: ShopProblem, operations: Iterable[ScheduledOperation]) -> list[str]:
    """Everything that makes the plan infeasible; an empty list means feasible."""
    found: list[str] = []
    planned: dict[OperationKey, ScheduledOperation] = {}
    for item in operations:
        if item.key in planned:
            found.append(f"{item.job_order}/{item.operation}: planned twice")
        planned[item.key] = item
    fixed = {(f.job_order, f.operation): f for f in problem.fixed}
    family: dict[OperationKey, str] = {}
    for order in problem.job_orders:
        previous: ScheduledOperation | None = None
        for op in order.operations:
            key = (order.id, op.id)
            family[key] = op.setup_family
            found_item = planned.get(key)
            where = f"{order.id}/{op.id}"
            if found_item is None:
                found.append(f"{where}: not planned")
                previous = None
                continue
            item = found_item
            durations = {e.work_unit: e.duration(order.quantity) for e in op.eligible}
            pinned = fixed.get(key)
            if pinned is not None:
                if (item.work_unit, item.start, item.end) != (
                    pinned.work_unit,
                    pinned.start,
                    pinned.end,
                ):
                    found.append(f"{where}: fixed operation was moved")
            else:
                if item.work_unit not in durations:
                    found.append(f"{where}: work unit {item.work_unit} is not eligible")
                elif item.end - item.start != durations[item.work_unit]:
                    found.append(
                        f"{where}: lasts {item.end - item.start}, "
                        f"expected {durations[item.work_unit]}"
                    )
                if item.start < problem.now:
                    found.append(f"{where}: starts at {item.start}, before now ({problem.now})")
                if previous is None and item.start < order.release:
                    found.append(f"{where}: starts before the release date {order.release}")
            if previous is not None and item.start < previous.end:
                found.append(
                    f"{where}: starts at {item.start} before its predecessor "
                    f"{previous.operation} ends at {previous.end}"
                )
            previous = item
    extra = set(planned) - set(family)
    found.extend(f"{a}/{b}: not in the problem" for a, b in sorted(extra))
    found.extend(_unit_violations(problem, planned, family, fixed))
    return found


def _unit_violations(
    problem: ShopProblem,
    planned: dict[OperationKey, ScheduledOperation],
    family: dict[OperationKey, str],
    fixed: Mapping[OperationKey, object],
) -> list[str]:
    found: list[str] = []
    downtimes = {unit.id: unit.downtimes for unit in problem.work_units}
    by_unit: dict[str, list[ScheduledOperation]] = {}
    for op in planned.values():
        if op.key in family:
            by_unit.setdefault(op.work_unit, []).append(op)
    for unit, ops in by_unit.items():
        ops.sort(key=lambda op: (op.start, op.end))
        pinned = [op for op in ops if op.key in fixed]
        # The setup state of a unit: the last fixed operation on it, then each free one.
        state = family[max(pinned, key=lambda op: op.end).key] if pinned else None
        before: ScheduledOperation | None = None
        for op in ops:
            setup = 0
            if op.key not in fixed:
                setup = _setup_time(problem, unit, state, family[op.key])
                state = family[op.key]
            busy_from = op.start - setup
            if before is not None and busy_from < before.end:
                found.append(
                    f"{unit}: {op.job_order}/{op.operation} (with setup {setup}) overlaps "
                    f"{before.job_order}/{before.operation}"
                )
            if op.key not in fixed:
                for down in downtimes.get(unit, ()):
                    if busy_from < down.end and down.start < op.end and down.end > down.start:
                        found.append(
                            f"{unit}: {op.job_order}/{op.operation} [{busy_from}, {op.end}) "
                            f"overlaps downtime [{down.start}, {down.end})"
                        )
            if before is None or op.end >= before.end:
                before = op
    return found
