"""Construction heuristic: Giffler-Thompson active schedules with dispatching rules.

At each step the operation that could finish first fixes a work unit and a time ``C``; every ready
operation that could start on that unit before ``C`` is in conflict, and a dispatching rule picks
one of them. Flexible operations are considered on each eligible unit; setups and downtimes are
respected. The result is a :class:`Sequencing`; the decoder gives its exact times.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from mom.scheduling.shop import Sequencing, Shop, earliest_fit

RULES = ("mwkr", "spt", "mopnr", "edd", "lpt", "random")

Priority = Callable[[int, int], float]


def _priority(shop: Shop, rule: str, rng: random.Random) -> Priority:
    n = shop.n
    min_dur = [min(d for _, d in opts) for opts in shop.options]
    work_left = [0] * n
    ops_left = [0] * n
    for i in reversed(range(n)):
        js = shop.jsucc[i]
        work_left[i] = min_dur[i] + (work_left[js] if js >= 0 else 0)
        ops_left[i] = 1 + (ops_left[js] if js >= 0 else 0)
    big = float(10**12)
    if rule == "spt":
        return lambda i, d: d
    if rule == "lpt":
        return lambda i, d: -d
    if rule == "mopnr":
        return lambda i, d: -ops_left[i]
    if rule == "edd":
        due = shop.due
        job = shop.job

        def edd(i: int, d: int) -> float:
            due_j = due[job[i]]
            return (due_j if due_j is not None else big) - work_left[i]

        return edd
    if rule == "random":
        return lambda i, d: rng.random()
    return lambda i, d: -work_left[i]


def giffler_thompson(
    shop: Shop, rule: str = "mwkr", rng: random.Random | None = None, noise: float = 0.0
) -> Sequencing:
    """One active schedule built with ``rule``; ``noise`` in [0, 1] randomises the choice."""
    rng = rng or random.Random(0)
    priority = _priority(shop, rule, rng)
    n, n_machines = shop.n, shop.n_machines
    machine_free = [shop.now] * n_machines
    machine_last = [-1] * n_machines
    job_ready: dict[int, int] = {}
    candidates: list[int] = []
    for i in range(n):
        if shop.jpred[i] < 0:
            candidates.append(i)
            job_ready[i] = shop.release[i]
    machine_of = [-1] * n
    dur = [0] * n
    seqs: list[list[int]] = [[] for _ in range(n_machines)]

    def earliest(i: int, m: int, d: int) -> tuple[int, int]:
        s = shop.setup_time(m, machine_last[m], i)
        t = max(job_ready[i], machine_free[m] + s)
        if shop.blocked[m]:
            t = earliest_fit(shop.blocked[m], shop.blocked_ends[m], t - s, s + d) + s
        return t, t + d

    while candidates:
        best_end, best_m = None, -1
        best_option = (-1, -1, 0, 0)
        options: list[tuple[int, int, int, int]] = []
        for i in candidates:
            for m, d in shop.options[i]:
                s_time, e_time = earliest(i, m, d)
                options.append((i, m, d, s_time))
                if best_end is None or e_time < best_end:
                    best_end, best_m, best_option = e_time, m, options[-1]
        assert best_end is not None
        # (the first-finishing operation itself is in conflict even if it lasts 0)
        conflict = [o for o in options if o[1] == best_m and o[3] < best_end] or [best_option]
        if noise and rng.random() < noise:
            choice = rng.choice(conflict)
        else:
            choice = min(conflict, key=lambda o: (priority(o[0], o[2]), o[3], rng.random()))
        i, m, d, s_time = choice
        machine_of[i], dur[i] = m, d
        seqs[m].append(i)
        machine_free[m] = s_time + d
        machine_last[m] = i
        candidates.remove(i)
        js = shop.jsucc[i]
        if js >= 0:
            candidates.append(js)
            job_ready[js] = max(shop.release[js], s_time + d)
    return Sequencing(machine_of, dur, seqs)
