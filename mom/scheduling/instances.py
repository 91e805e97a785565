"""Readers for classic job-shop instance files (OR-Library and Taillard formats).

OR-Library: a line ``n m``, then one line per job of ``machine duration`` pairs, machines numbered
from 0. Taillard: a line ``n m`` (optionally followed by seeds and bounds), the ``n x m`` processing
times matrix, then the ``n x m`` machines matrix numbered from 1; the label lines ``Times`` and
``Machines`` and Taillard's header line are accepted. Blank lines and ``#`` comments are skipped.
Errors name the file and the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mom.scheduling.model import Eligibility, JobOrder, RoutingOperation, ShopProblem, WorkUnit

InstanceFormat = Literal["orlib", "taillard"]


class InstanceError(ValueError):
    """A bad instance file; the message is ``FILE:LINE: what is wrong``."""


@dataclass(frozen=True)
class ClassicInstance:
    """A classic job shop: each job visits machines in a fixed order, one machine per step."""

    name: str
    n_jobs: int
    n_machines: int
    jobs: tuple[tuple[tuple[int, int], ...], ...]
    """jobs[j][k] = (machine numbered from 0, duration)."""

    def to_problem(self) -> ShopProblem:
        units = tuple(WorkUnit(id=machine_id(m)) for m in range(self.n_machines))
        orders = tuple(
            JobOrder(
                id=job_id(j),
                operations=tuple(
                    RoutingOperation(id=str(k), eligible=(Eligibility(machine_id(m), d),))
                    for k, (m, d) in enumerate(steps)
                ),
            )
            for j, steps in enumerate(self.jobs)
        )
        return ShopProblem(job_orders=orders, work_units=units)


def job_id(j: int) -> str:
    return f"J{j}"


def machine_id(m: int) -> str:
    return f"M{m}"


def _numbered_lines(text: str) -> list[tuple[int, str]]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append((number, line))
    return lines


def _integers(source: str, number: int, line: str) -> list[int]:
    try:
        values = [int(token) for token in line.split()]
    except ValueError:
        raise InstanceError(f"{source}:{number}: expected integers, got {line!r}") from None
    if any(v < 0 for v in values):
        raise InstanceError(f"{source}:{number}: negative number in {line!r}")
    return values


def _header(source: str, lines: list[tuple[int, str]]) -> tuple[int, int, int]:
    """Return (n_jobs, n_machines, index of the next line)."""
    for index, (number, line) in enumerate(lines):
        lowered = line.lower()
        if lowered.startswith("nb of jobs") or lowered.startswith("instance"):
            continue
        values = _integers(source, number, line)
        if len(values) < 2:
            raise InstanceError(
                f"{source}:{number}: expected the header 'n_jobs n_machines', got {line!r}"
            )
        n, m = values[0], values[1]
        if n < 1 or m < 1:
            raise InstanceError(f"{source}:{number}: the instance needs at least 1 job and machine")
        return n, m, index + 1
    raise InstanceError(f"{source}:1: empty file, expected the header 'n_jobs n_machines'")


def parse_orlib(text: str, source: str = "<string>") -> ClassicInstance:
    lines = _numbered_lines(text)
    n, m, start = _header(source, lines)
    body = lines[start:]
    if len(body) < n:
        last = lines[-1][0] if lines else 1
        raise InstanceError(f"{source}:{last}: expected {n} job lines, found {len(body)}")
    jobs = []
    for number, line in body[:n]:
        values = _integers(source, number, line)
        if len(values) % 2:
            raise InstanceError(f"{source}:{number}: expected 'machine duration' pairs")
        steps = tuple((values[i], values[i + 1]) for i in range(0, len(values), 2))
        for machine, _ in steps:
            if machine >= m:
                raise InstanceError(
                    f"{source}:{number}: machine {machine} out of range 0..{m - 1}"
                )
        jobs.append(steps)
    if len(body) > n:
        number, line = body[n]
        raise InstanceError(f"{source}:{number}: unexpected line after the {n} jobs: {line!r}")
    return ClassicInstance(name=Path(source).stem, n_jobs=n, n_machines=m, jobs=tuple(jobs))


def _matrix(
    source: str, rows: list[tuple[int, str]], n: int, m: int, what: str
) -> list[list[int]]:
    matrix = []
    for number, line in rows:
        values = _integers(source, number, line)
        if len(values) != m:
            raise InstanceError(f"{source}:{number}: {what} row needs {m} numbers, got {len(values)}")
        matrix.append(values)
    if len(matrix) != n:
        last = rows[-1][0] if rows else 1
        raise InstanceError(f"{source}:{last}: expected {n} {what} rows, found {len(matrix)}")
    return matrix


def parse_taillard(text: str, source: str = "<string>") -> ClassicInstance:
    lines = _numbered_lines(text)
    n, m, start = _header(source, lines)
    body = [(num, line) for num, line in lines[start:] if line.lower() not in ("times", "machines")]
    if len(body) != 2 * n:
        number = body[min(len(body), 2 * n) - 1][0] if body else lines[-1][0]
        raise InstanceError(
            f"{source}:{number}: expected {n} rows of times then {n} rows of machines, "
            f"found {len(body)} rows"
        )
    times = _matrix(source, body[:n], n, m, "times")
    machines = _matrix(source, body[n:], n, m, "machines")
    jobs = []
    for (number, _), time_row, machine_row in zip(body[n:], times, machines, strict=True):
        for machine in machine_row:
            if not 1 <= machine <= m:
                raise InstanceError(
                    f"{source}:{number}: machine {machine} out of range 1..{m} (Taillard numbers "
                    "machines from 1)"
                )
        jobs.append(tuple((mach - 1, t) for mach, t in zip(machine_row, time_row, strict=True)))
    return ClassicInstance(name=Path(source).stem, n_jobs=n, n_machines=m, jobs=tuple(jobs))


def read_instance(path: str | Path, fmt: InstanceFormat) -> ClassicInstance:
    """Read a classic instance file; raise :class:`InstanceError` naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InstanceError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InstanceError(f"{path}:1: not a text file") from None
    if fmt == "orlib":
        return parse_orlib(text, str(path))
    return parse_taillard(text, str(path))
