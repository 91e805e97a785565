"""The compiled shop: a problem flattened into arrays, a sequencing (work unit + order per unit),
and the decoder that turns a sequencing into start times (semi-active schedule).

Free operations are numbered ``0..n-1``. Fixed operations (running, frozen, done) are not
sequenced: they block their work unit like a downtime and release their job successors.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from mom.scheduling.model import (
    Objective,
    OperationKey,
    Plan,
    ProblemError,
    ScheduledOperation,
    ShopProblem,
)


@dataclass
class Shop:
    problem: ShopProblem
    objective: Objective
    keys: list[OperationKey]
    step: list[int]
    """Index of the operation in its job order's routing."""
    job: list[int]
    jpred: list[int]
    jsucc: list[int]
    release: list[int]
    options: list[list[tuple[int, int]]]
    """Eligible (machine, duration) pairs of each operation."""
    family: list[int]
    machine_ids: list[str]
    setup: list[list[list[int]]] | None
    """setup[m][from family][to family]; the last family index is 'nothing before'."""
    initial_family: list[int]
    blocked: list[list[tuple[int, int]]]
    blocked_ends: list[list[int]]
    job_ids: list[str]
    job_last: list[int]
    due: list[int | None]
    weight: list[float]
    fixed_makespan: int
    fixed_tardiness: float
    ref_machine: list[int]
    ref_start: list[int]
    stability_weight: list[float]
    now: int

    @property
    def n(self) -> int:
        return len(self.keys)

    @property
    def n_machines(self) -> int:
        return len(self.machine_ids)

    @property
    def flexible(self) -> bool:
        return any(len(opts) > 1 for opts in self.options)

    @property
    def simple(self) -> bool:
        """No setups, no blocked periods: the swap estimates of the tabu search are exact."""
        return self.setup is None and not any(self.blocked)

    @property
    def setups_triangular(self) -> bool:
        """s(a,c) <= s(a,b) + s(b,c) on every unit: then pairwise setup constraints are implied
        by the consecutive ones, and the disjunctive MILP is a relaxation of the shop."""
        if self.setup is None:
            return True
        for table in self.setup:
            size = len(table)
            for a in range(size):
                for b in range(size):
                    for c in range(size):
                        if table[a][c] > table[a][b] + table[b][c]:
                            return False
        return True

    def setup_time(self, machine: int, before: int, after: int) -> int:
        if self.setup is None:
            return 0
        table = self.setup[machine]
        first = self.family[before] if before >= 0 else self.initial_family[machine]
        return table[first][self.family[after]]

    def duration_on(self, op: int, machine: int) -> int:
        for m, d in self.options[op]:
            if m == machine:
                return d
        raise KeyError(machine)


@dataclass
class Sequencing:
    """A solution: the work unit of each operation and the order of operations on each unit."""

    machine_of: list[int]
    dur: list[int]
    seqs: list[list[int]]

    def copy(self) -> Sequencing:
        return Sequencing(list(self.machine_of), list(self.dur), [list(s) for s in self.seqs])


@dataclass
class Timing:
    start: list[int]
    end: list[int]
    setup: list[int]
    order: list[int]
    mpred: list[int]
    msucc: list[int]
    makespan: int
    tardiness: float
    stability: float
    cost: float


def earliest_fit(blocked: list[tuple[int, int]], ends: list[int], t: int, length: int) -> int:
    """Earliest time >= t at which [time, time+length) avoids every blocked period."""
    for a, b in blocked[bisect_right(ends, t) :]:
        if a >= t + length:
            break
        if b > t:
            t = b
    return t


def decode(shop: Shop, sol: Sequencing) -> Timing | None:
    """Semi-active schedule of a sequencing, or None if the sequencing has a cycle."""
    n = shop.n
    jpred, jsucc, release = shop.jpred, shop.jsucc, shop.release
    machine_of, dur = sol.machine_of, sol.dur
    setup, family, initial, blocked, ends = (
        shop.setup,
        shop.family,
        shop.initial_family,
        shop.blocked,
        shop.blocked_ends,
    )
    now = shop.now
    mpred = [-1] * n
    msucc = [-1] * n
    indeg = [0] * n
    for seq in sol.seqs:
        prev = -1
        for i in seq:
            mpred[i] = prev
            if prev >= 0:
                msucc[prev] = i
                indeg[i] = 1
            prev = i
    for i in range(n):
        if jpred[i] >= 0:
            indeg[i] += 1
    stack = [i for i in range(n) if indeg[i] == 0]
    start = [0] * n
    end = [0] * n
    setups = [0] * n
    order: list[int] = []
    while stack:
        i = stack.pop()
        order.append(i)
        m = machine_of[i]
        t = release[i]
        jp = jpred[i]
        if jp >= 0 and end[jp] > t:
            t = end[jp]
        mp = mpred[i]
        free = end[mp] if mp >= 0 else now
        s = 0
        if setup is not None:
            s = setup[m][family[mp] if mp >= 0 else initial[m]][family[i]]
        if free + s > t:
            t = free + s
        if blocked[m]:
            t = earliest_fit(blocked[m], ends[m], t - s, s + dur[i]) + s
        start[i] = t
        end[i] = t + dur[i]
        setups[i] = s
        js = jsucc[i]
        if js >= 0:
            indeg[js] -= 1
            if indeg[js] == 0:
                stack.append(js)
        ms = msucc[i]
        if ms >= 0:
            indeg[ms] -= 1
            if indeg[ms] == 0:
                stack.append(ms)
    if len(order) < n:
        return None
    makespan, tardiness, stability, cost = evaluate(shop, sol, start, end)
    return Timing(start, end, setups, order, mpred, msucc, makespan, tardiness, stability, cost)


def evaluate(
    shop: Shop, sol: Sequencing, start: list[int], end: list[int]
) -> tuple[int, float, float, float]:
    makespan = max(max(end, default=0), shop.fixed_makespan)
    objective = shop.objective
    tardiness = shop.fixed_tardiness
    if objective.weighted_tardiness:
        for j, last in enumerate(shop.job_last):
            due = shop.due[j]
            if last >= 0 and due is not None and end[last] > due:
                tardiness += shop.weight[j] * (end[last] - due)
    stability = 0.0
    if objective.stability:
        ref_machine, ref_start, weight = shop.ref_machine, shop.ref_start, shop.stability_weight
        for i in range(shop.n):
            if ref_machine[i] >= 0:
                moved = abs(start[i] - ref_start[i])
                if sol.machine_of[i] != ref_machine[i]:
                    moved += sol.dur[i]
                stability += weight[i] * moved
    cost = (
        objective.makespan * makespan
        + objective.weighted_tardiness * tardiness
        + objective.stability * stability
    )
    return makespan, tardiness, stability, cost


def tails(shop: Shop, sol: Sequencing, timing: Timing) -> list[int]:
    """q[i]: longest path from the end of i to the end of the schedule (calendars ignored)."""
    n = shop.n
    q = [0] * n
    jsucc, dur, msucc = shop.jsucc, sol.dur, timing.msucc
    setup, family, machine_of = shop.setup, shop.family, sol.machine_of
    for i in reversed(timing.order):
        best = 0
        js = jsucc[i]
        if js >= 0:
            best = dur[js] + q[js]
        ms = msucc[i]
        if ms >= 0:
            v = dur[ms] + q[ms]
            if setup is not None:
                v += setup[machine_of[i]][family[i]][family[ms]]
            if v > best:
                best = v
        q[i] = best
    return q


def compile_shop(
    problem: ShopProblem, objective: Objective, reference: Plan | None = None
) -> Shop:
    """Flatten a validated problem. Raises :class:`ProblemError` for inconsistent input."""
    problem.validate()
    machine_ids = [unit.id for unit in problem.work_units]
    machine_index = {mid: m for m, mid in enumerate(machine_ids)}
    families = sorted(
        {op.setup_family for order in problem.job_orders for op in order.operations}
        | {r.from_family for r in problem.setups}
        | {r.to_family for r in problem.setups}
    )
    family_index = {f: k for k, f in enumerate(families)}
    fixed = {(f.job_order, f.operation): f for f in problem.fixed}
    blocked: list[list[tuple[int, int]]] = [
        [(d.start, d.end) for d in unit.downtimes if d.end > d.start]
        for unit in problem.work_units
    ]
    last_fixed: list[tuple[int, int]] = [(-(10**18), len(families))] * len(machine_ids)
    shop = Shop(problem, objective, [], [], [], [], [], [], [], [], machine_ids, None,
                [len(families)] * len(machine_ids), blocked, [], [], [], [], [], 0, 0.0,
                [], [], [], problem.now)  # fmt: skip
    for j, order in enumerate(problem.job_orders):
        shop.job_ids.append(order.id)
        shop.due.append(order.due)
        shop.weight.append(order.weight)
        ready = max(order.release, problem.now)
        prev = -1
        job_end = order.release
        for k, op in enumerate(order.operations):
            item = fixed.get((order.id, op.id))
            if item is not None:
                m = machine_index[item.work_unit]
                if item.end > item.start:
                    blocked[m].append((item.start, item.end))
                if item.end > last_fixed[m][0]:
                    last_fixed[m] = (item.end, family_index[op.setup_family])
                ready = max(ready, item.end)
                job_end = max(job_end, item.end)
                shop.fixed_makespan = max(shop.fixed_makespan, item.end)
                continue
            i = len(shop.keys)
            shop.keys.append((order.id, op.id))
            shop.step.append(k)
            shop.job.append(j)
            shop.jpred.append(prev)
            shop.jsucc.append(-1)
            if prev >= 0:
                shop.jsucc[prev] = i
            shop.release.append(ready if prev < 0 else problem.now)
            shop.options.append(
                [(machine_index[e.work_unit], e.duration(order.quantity)) for e in op.eligible]
            )
            shop.family.append(family_index[op.setup_family])
            prev = i
        shop.job_last.append(prev)
        if prev < 0 and order.due is not None and job_end > order.due:
            shop.fixed_tardiness += order.weight * (job_end - order.due)
    for m, intervals in enumerate(blocked):
        blocked[m] = _merge(intervals)
        shop.blocked_ends.append([b for _, b in blocked[m]])
    shop.initial_family = [fam for _, fam in last_fixed]
    if problem.setups:
        shop.setup = _setup_tables(problem, machine_ids, families, family_index)
    _attach_reference(shop, reference, machine_index)
    return shop


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _setup_tables(
    problem: ShopProblem, machine_ids: list[str], families: list[str], index: dict[str, int]
) -> list[list[list[int]]]:
    size = len(families) + 1
    tables = [[[0] * size for _ in range(size)] for _ in machine_ids]
    for rule in sorted(problem.setups, key=lambda r: r.work_unit is not None):
        a, b = index[rule.from_family], index[rule.to_family]
        for m, mid in enumerate(machine_ids):
            if rule.work_unit is None or rule.work_unit == mid:
                tables[m][a][b] = rule.time
    return tables


def _attach_reference(shop: Shop, reference: Plan | None, machine_index: dict[str, int]) -> None:
    shop.ref_machine = [-1] * shop.n
    shop.ref_start = [0] * shop.n
    shop.stability_weight = [0.0] * shop.n
    if reference is None:
        return
    planned = reference.by_key()
    prepared = shop.problem.prepared
    for i, key in enumerate(shop.keys):
        old = planned.get(key)
        if old is None or old.work_unit not in machine_index:
            continue
        shop.ref_machine[i] = machine_index[old.work_unit]
        shop.ref_start[i] = old.start
        shop.stability_weight[i] = shop.objective.prepared_factor if key in prepared else 1.0


def sequencing_from_starts(
    shop: Shop, machine_of: list[int], start: Sequence[float]
) -> Sequencing:
    """Order each unit's operations by the given start times (ties: routing order)."""
    seqs: list[list[int]] = [[] for _ in range(shop.n_machines)]
    for i in sorted(range(shop.n), key=lambda i: (start[i], shop.step[i], i)):
        seqs[machine_of[i]].append(i)
    dur = [shop.duration_on(i, machine_of[i]) for i in range(shop.n)]
    return Sequencing(list(machine_of), dur, seqs)


def scheduled_operations(
    shop: Shop, sol: Sequencing, timing: Timing
) -> tuple[ScheduledOperation, ...]:
    """All operations of the plan, fixed ones included, ordered by start then job order."""
    result = [
        ScheduledOperation(
            job_order=item.job_order,
            operation=item.operation,
            index=_step_of(shop.problem, item.job_order, item.operation),
            work_unit=item.work_unit,
            start=item.start,
            end=item.end,
            fixed=True,
        )
        for item in shop.problem.fixed
    ]
    for i, (order_id, op_id) in enumerate(shop.keys):
        result.append(
            ScheduledOperation(
                job_order=order_id,
                operation=op_id,
                index=shop.step[i],
                work_unit=shop.machine_ids[sol.machine_of[i]],
                start=timing.start[i],
                end=timing.end[i],
                setup=timing.setup[i],
            )
        )
    result.sort(key=lambda op: (op.start, op.job_order, op.index))
    return tuple(result)


def _step_of(problem: ShopProblem, order_id: str, op_id: str) -> int:
    order = problem.job_order(order_id)
    for k, op in enumerate(order.operations):
        if op.id == op_id:
            return k
    raise ProblemError(f"job order {order_id!r} has no operation {op_id!r}")
