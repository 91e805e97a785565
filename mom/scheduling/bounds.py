"""Lower bounds on the makespan.

Job bound: release plus the shortest processing of a job order's remaining routing. Load bound:
all the shortest processing shared evenly by all units from ``now``. Work-unit
bound: for each unit, the preemptive one-machine problem with heads and tails (Jackson's preemptive
schedule), over the operations that can run only on that unit. Setups, downtimes and fixed
operations can only delay a plan, so ignoring them keeps the bound valid.
"""

from __future__ import annotations

import heapq

from mom.scheduling.shop import Shop


def jackson_preemptive(jobs: list[tuple[int, int, int]]) -> int:
    """max(C_i + q_i) of the preemptive schedule of (head, duration, tail) triples."""
    pending = sorted(jobs)
    ready: list[tuple[int, int, int]] = []  # (-tail, remaining, tail)
    t = 0
    k = 0
    bound = 0
    while k < len(pending) or ready:
        if not ready and pending[k][0] > t:
            t = pending[k][0]
        while k < len(pending) and pending[k][0] <= t:
            _head, duration, tail = pending[k]
            heapq.heappush(ready, (-tail, duration, tail))
            k += 1
        neg_tail, remaining, tail = heapq.heappop(ready)
        next_arrival = pending[k][0] if k < len(pending) else None
        if next_arrival is not None and t + remaining > next_arrival:
            heapq.heappush(ready, (neg_tail, remaining - (next_arrival - t), tail))
            t = next_arrival
        else:
            t += remaining
            bound = max(bound, t + tail)
    return bound


def makespan_lower_bound(shop: Shop) -> int:
    n = shop.n
    shortest = [min(d for _, d in opts) for opts in shop.options]
    head = [0] * n
    tail = [0] * n
    for i in range(n):
        jp = shop.jpred[i]
        head[i] = max(shop.release[i], head[jp] + shortest[jp] if jp >= 0 else 0)
    for i in reversed(range(n)):
        js = shop.jsucc[i]
        tail[i] = tail[js] + shortest[js] if js >= 0 else 0
    bound = shop.fixed_makespan
    for i in range(n):
        bound = max(bound, head[i] + shortest[i] + tail[i])
    if shop.n_machines:  # all the work shared by all units, none starting before now
        bound = max(bound, shop.now + -(-sum(shortest) // shop.n_machines))
    per_unit: list[list[tuple[int, int, int]]] = [[] for _ in range(shop.n_machines)]
    for i in range(n):
        if len(shop.options[i]) == 1:
            per_unit[shop.options[i][0][0]].append((head[i], shortest[i], tail[i]))
    for jobs in per_unit:
        if jobs:
            bound = max(bound, jackson_preemptive(jobs))
    return bound
