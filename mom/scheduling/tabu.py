"""Tabu search on the critical-block neighbourhood (Nowicki-Smutnicki N5, plus re-assignments).

Makespan mode: each iteration decodes the current sequencing once, computes tails, and rates
every swap at the border of a critical block with Taillard's head/tail estimate (exact without
setups and downtimes), so an iteration costs O(n). Other objectives (weighted tardiness,
stability) rate each candidate by decoding it exactly; the candidates come from the critical
paths of the makespan and of the most tardy job orders. Flexible operations on those paths may
move to another eligible work unit.
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass

from mom.scheduling.shop import Sequencing, Shop, Timing, decode, tails

Move = tuple[int, int, int]
"""(kind, a, b): kind 0 swaps positions a, a+1 on machine b; kind 1 moves operation a to unit b."""


@dataclass
class SearchResult:
    best: Sequencing
    timing: Timing
    iterations: int


def critical_path(shop: Shop, timing: Timing, last: int) -> list[int]:
    """Operations on a longest path ending at ``last``, traced through tight arcs."""
    path = [last]
    i = last
    start, end, setup, mpred, jpred = (
        timing.start,
        timing.end,
        timing.setup,
        timing.mpred,
        shop.jpred,
    )
    while True:
        t = start[i]
        mp = mpred[i]
        jp = jpred[i]
        if mp >= 0 and end[mp] + setup[i] == t:
            i = mp
        elif jp >= 0 and end[jp] == t:
            i = jp
        else:
            break
        path.append(i)
    path.reverse()
    return path


def block_moves(timing: Timing, path: list[int], sol: Sequencing, everything: bool) -> list[Move]:
    """N5 swaps (first and last pair of inner blocks); every adjacent pair if ``everything``."""
    blocks: list[list[int]] = []
    for i in path:
        if blocks and timing.mpred[i] == blocks[-1][-1]:
            blocks[-1].append(i)
        else:
            blocks.append([i])
    pairs: set[tuple[int, int]] = set()
    last = len(blocks) - 1
    for b, block in enumerate(blocks):
        if len(block) < 2:
            continue
        if everything or last == 0:
            pairs.update(itertools.pairwise(block))
            continue
        if b > 0:
            pairs.add((block[0], block[1]))
        if b < last:
            pairs.add((block[-2], block[-1]))
    moves: list[Move] = []
    for u, _ in pairs:
        m = sol.machine_of[u]
        moves.append((0, sol.seqs[m].index(u), m))
    return moves


def reassign_moves(shop: Shop, sol: Sequencing, path: list[int]) -> list[Move]:
    return [
        (1, i, m)
        for i in path
        if len(shop.options[i]) > 1
        for m, _ in shop.options[i]
        if m != sol.machine_of[i]
    ]


def apply_move(shop: Shop, sol: Sequencing, timing: Timing, move: Move) -> None:
    kind, a, b = move
    if kind == 0:
        seq = sol.seqs[b]
        seq[a], seq[a + 1] = seq[a + 1], seq[a]
        return
    i, m_new = a, b
    sol.seqs[sol.machine_of[i]].remove(i)
    target = sol.seqs[m_new]
    start = timing.start
    position = 0
    while position < len(target) and start[target[position]] <= start[i]:
        position += 1
    target.insert(position, i)
    sol.machine_of[i] = m_new
    sol.dur[i] = shop.duration_on(i, m_new)


def _tabu_key(sol: Sequencing, move: Move) -> tuple[int, int, int]:
    """The attribute a move re-creates: ``(0, u, v)`` u right before v, ``(1, i, m)`` i on m."""
    kind, a, b = move
    if kind == 0:
        seq = sol.seqs[b]
        return (0, seq[a + 1], seq[a])
    return (1, a, b)


def _reverse_key(sol: Sequencing, move: Move) -> tuple[int, int, int]:
    """The attribute a move destroys (forbidden afterwards)."""
    kind, a, b = move
    if kind == 0:
        seq = sol.seqs[b]
        return (0, seq[a], seq[a + 1])
    return (1, a, sol.machine_of[a])


def _swap_estimate(shop: Shop, sol: Sequencing, timing: Timing, q: list[int], move: Move) -> int:
    _, a, m = move
    seq = sol.seqs[m]
    u, v = seq[a], seq[a + 1]
    dur, end = sol.dur, timing.end
    jpred, jsucc, release = shop.jpred, shop.jsucc, shop.release
    mp = seq[a - 1] if a > 0 else -1
    ms = seq[a + 2] if a + 2 < len(seq) else -1
    st = shop.setup_time
    rv = release[v]
    jp = jpred[v]
    if jp >= 0 and end[jp] > rv:
        rv = end[jp]
    free = (end[mp] if mp >= 0 else shop.now) + st(m, mp, v)
    rv = max(rv, free)
    ru = max(release[u], rv + dur[v] + st(m, v, u))
    jp = jpred[u]
    if jp >= 0 and end[jp] > ru:
        ru = end[jp]
    js = jsucc[u]
    qu = dur[js] + q[js] if js >= 0 else 0
    if ms >= 0:
        qu = max(qu, st(m, u, ms) + dur[ms] + q[ms])
    js = jsucc[v]
    qv = max(dur[js] + q[js] if js >= 0 else 0, st(m, v, u) + dur[u] + qu)
    return max(rv + dur[v] + qv, ru + dur[u] + qu, shop.fixed_makespan)


def _exact(shop: Shop, sol: Sequencing, timing: Timing, move: Move) -> float | None:
    trial = sol.copy()
    apply_move(shop, trial, timing, move)
    result = decode(shop, trial)
    return None if result is None else result.cost


def _candidate_paths(shop: Shop, timing: Timing, rng: random.Random) -> list[list[int]]:
    ends = timing.end
    last = max(range(shop.n), key=lambda i: (ends[i], rng.random()))
    paths = [critical_path(shop, timing, last)]
    if shop.objective.weighted_tardiness:
        late = []
        for j, op in enumerate(shop.job_last):
            due = shop.due[j]
            if op >= 0 and due is not None and ends[op] > due:
                late.append((shop.weight[j] * (ends[op] - due), op))
        late.sort(reverse=True)
        paths.extend(critical_path(shop, timing, op) for _, op in late[:3])
    return paths


def tabu_search(
    shop: Shop,
    start: Sequencing,
    deadline: float,
    rng: random.Random,
    *,
    stall_limit: int | None = None,
    max_iterations: int | None = None,
    stop_at: int | None = None,
) -> SearchResult:
    """Improve ``start`` until ``deadline`` (a ``time.perf_counter()`` value) or until the
    makespan reaches ``stop_at`` (a lower bound)."""
    current = start.copy()
    timing = decode(shop, current)
    if timing is None:
        raise ValueError("the starting sequencing has a cycle")
    best, best_timing = current.copy(), timing
    # Swap estimates are exact only without setups and downtimes; otherwise decode each move.
    makespan_mode = shop.objective.makespan_only and shop.simple
    n = max(shop.n, 1)
    stall_limit = stall_limit or max(400, 8 * n)
    base_tenure = 8 + n // max(shop.n_machines, 1) // 2
    tabu: dict[tuple[int, int, int], int] = {}
    iteration = last_improvement = 0
    everything = False
    while time.perf_counter() < deadline:
        if max_iterations is not None and iteration >= max_iterations:
            break
        if stop_at is not None and best_timing.makespan <= stop_at:
            break
        iteration += 1
        paths = _candidate_paths(shop, timing, rng)
        moves: list[Move] = []
        for path in paths:
            moves.extend(block_moves(timing, path, current, everything))
            if shop.flexible:
                moves.extend(reassign_moves(shop, current, path))
        moves = list(dict.fromkeys(moves))
        if not moves:
            if everything:
                break
            everything = True
            continue
        q = tails(shop, current, timing) if makespan_mode else []
        chosen: Move | None = None
        chosen_value = 0.0
        oldest: Move | None = None
        oldest_expiry = 0
        for move in moves:
            if makespan_mode and move[0] == 0:
                value: float | None = shop.objective.makespan * _swap_estimate(
                    shop, current, timing, q, move
                )
            else:
                value = _exact(shop, current, timing, move)
            if value is None:
                continue
            expiry = tabu.get(_tabu_key(current, move), 0)
            value += rng.random() * 0.5
            if expiry > iteration and value >= best_timing.cost:
                if oldest is None or expiry < oldest_expiry:
                    oldest, oldest_expiry = move, expiry
                continue
            if chosen is None or value < chosen_value:
                chosen, chosen_value = move, value
        chosen = chosen or oldest
        if chosen is None:
            break
        tabu[_reverse_key(current, chosen)] = iteration + base_tenure + rng.randint(0, base_tenure)
        apply_move(shop, current, timing, chosen)
        new_timing = decode(shop, current)
        if new_timing is None:  # a cycle (possible only with setups/downtimes): start again
            current, timing = best.copy(), best_timing
            continue
        timing = new_timing
        everything = False
        if timing.cost < best_timing.cost:
            best, best_timing = current.copy(), timing
            last_improvement = iteration
        elif iteration - last_improvement > stall_limit:
            current = best.copy()
            timing = _perturb(shop, current, best_timing, rng)
            tabu.clear()
            last_improvement = iteration
    return SearchResult(best, best_timing, iteration)


def _perturb(shop: Shop, sol: Sequencing, timing: Timing, rng: random.Random) -> Timing:
    """A few random swaps on critical blocks, to leave a basin the search keeps returning to."""
    for _ in range(rng.randint(2, 6)):
        path = critical_path(shop, timing, max(range(shop.n), key=lambda i: timing.end[i]))
        moves = block_moves(timing, path, sol, everything=True)
        if not moves:
            break
        move = rng.choice(moves)
        trial = sol.copy()
        apply_move(shop, trial, timing, move)
        new_timing = decode(shop, trial)
        if new_timing is None:
            continue
        sol.machine_of, sol.dur, sol.seqs = trial.machine_of, trial.dur, trial.seqs
        timing = new_timing
    return timing
