"""Statuses of plant entities and the state machines that govern their changes.

Production orders come from ERP and are broken into job orders, one per routing operation; job
order states follow OPC 10031-4 job control (Store = dispatched, Start, Pause, Resume, Stop, Abort).
Every change goes through :func:`check_transition`, which raises :class:`IllegalTransition`
naming the entity, its id and both states.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from mom.domain.errors import IllegalTransition


class EquipmentLevel(StrEnum):
    """ISA-95 equipment hierarchy, top to bottom."""

    ENTERPRISE = "enterprise"
    SITE = "site"
    AREA = "area"
    WORK_CENTER = "work_center"
    WORK_UNIT = "work_unit"

    @property
    def parent_level(self) -> EquipmentLevel | None:
        order = list(EquipmentLevel)
        index = order.index(self)
        return order[index - 1] if index > 0 else None


class ProductionOrderStatus(StrEnum):
    RECEIVED = "received"
    RELEASED = "released"
    IN_PROGRESS = "in_progress"
    HELD = "held"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    ABORTED = "aborted"


class JobOrderStatus(StrEnum):
    PLANNED = "planned"
    DISPATCHED = "dispatched"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    ABORTED = "aborted"
    CANCELLED = "cancelled"


class LotStatus(StrEnum):
    AVAILABLE = "available"
    ON_HOLD = "on_hold"
    CONSUMED = "consumed"
    SCRAPPED = "scrapped"


class TaskStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ProcessInstanceStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class MachineEventKind(StrEnum):
    STATE = "state"
    ALARM = "alarm"
    COUNTER = "counter"
    COMMAND = "command"


class QualityResult(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_EVALUATED = "not_evaluated"


_P = ProductionOrderStatus
_J = JobOrderStatus
_L = LotStatus
_T = TaskStatus
_I = ProcessInstanceStatus

_TRANSITIONS: dict[type[StrEnum], dict[StrEnum, frozenset[StrEnum]]] = {
    ProductionOrderStatus: {
        _P.RECEIVED: frozenset({_P.RELEASED, _P.CANCELLED}),
        _P.RELEASED: frozenset({_P.IN_PROGRESS, _P.HELD, _P.CANCELLED}),
        _P.IN_PROGRESS: frozenset({_P.HELD, _P.COMPLETED, _P.ABORTED}),
        _P.HELD: frozenset({_P.RELEASED, _P.IN_PROGRESS, _P.CANCELLED, _P.ABORTED}),
        _P.COMPLETED: frozenset({_P.CLOSED}),
        _P.CLOSED: frozenset(),
        _P.CANCELLED: frozenset(),
        _P.ABORTED: frozenset(),
    },
    JobOrderStatus: {
        _J.PLANNED: frozenset({_J.DISPATCHED, _J.CANCELLED}),
        _J.DISPATCHED: frozenset({_J.RUNNING, _J.PLANNED, _J.CANCELLED}),
        _J.RUNNING: frozenset({_J.PAUSED, _J.COMPLETED, _J.ABORTED}),
        _J.PAUSED: frozenset({_J.RUNNING, _J.ABORTED}),
        _J.COMPLETED: frozenset(),
        _J.ABORTED: frozenset(),
        _J.CANCELLED: frozenset(),
    },
    LotStatus: {
        _L.AVAILABLE: frozenset({_L.ON_HOLD, _L.CONSUMED, _L.SCRAPPED}),
        _L.ON_HOLD: frozenset({_L.AVAILABLE, _L.SCRAPPED}),
        _L.CONSUMED: frozenset(),
        _L.SCRAPPED: frozenset(),
    },
    TaskStatus: {
        _T.OPEN: frozenset({_T.CLAIMED, _T.COMPLETED, _T.CANCELLED}),
        _T.CLAIMED: frozenset({_T.OPEN, _T.COMPLETED, _T.CANCELLED}),
        _T.COMPLETED: frozenset(),
        _T.CANCELLED: frozenset(),
    },
    ProcessInstanceStatus: {
        _I.RUNNING: frozenset({_I.COMPLETED, _I.FAILED, _I.CANCELLED, _I.TERMINATED}),
        _I.FAILED: frozenset({_I.RUNNING, _I.TERMINATED}),
        _I.COMPLETED: frozenset(),
        _I.CANCELLED: frozenset(),
        _I.TERMINATED: frozenset(),
    },
}

ENTITY_NAMES: dict[type[StrEnum], str] = {
    ProductionOrderStatus: "production order",
    JobOrderStatus: "job order",
    LotStatus: "lot",
    TaskStatus: "human task",
    ProcessInstanceStatus: "process instance",
}

S = TypeVar("S", bound=StrEnum)


def allowed_transitions(current: S) -> frozenset[S]:
    """The states ``current`` may move to."""
    return _TRANSITIONS[type(current)][current]  # type: ignore[return-value]


def is_terminal(status: StrEnum) -> bool:
    return not _TRANSITIONS[type(status)][status]


def check_transition(current: S, target: S, *, entity_id: object) -> S:
    """Return ``target`` if ``current -> target`` is allowed, else raise ``IllegalTransition``."""
    if type(current) is not type(target):
        raise TypeError(f"cannot compare {type(current).__name__} with {type(target).__name__}")
    allowed = allowed_transitions(current)
    if target not in allowed:
        raise IllegalTransition(
            ENTITY_NAMES[type(current)],
            entity_id,
            current.value,
            target.value,
            tuple(sorted(state.value for state in allowed)),
        )
    return target
