"""Scheduling of job orders on work units: a flexible job shop with setups, calendars and frozen
operations, solved by dispatching, tabu search and MILP neighbourhoods (PuLP + HiGHS).

Entry points: :func:`solve` plans a :class:`ShopProblem`; :func:`replan` repairs a plan after
events; :mod:`mom.scheduling.instances` reads classic benchmark files; :mod:`mom.scheduling.gantt`
draws plans; :mod:`mom.scheduling.exchange` converts to and from JSON documents.
"""

from mom.scheduling.model import (
    Downtime,
    Eligibility,
    FixedOperation,
    JobOrder,
    Objective,
    Plan,
    ProblemError,
    RoutingOperation,
    ScheduledOperation,
    SetupRule,
    ShopProblem,
    WorkUnit,
)
from mom.scheduling.replan import Breakdown, QuantityChange, ReplanResult, UrgentOrder, replan
from mom.scheduling.solver import SolveOptions, solve

__all__ = [
    "Breakdown",
    "Downtime",
    "Eligibility",
    "FixedOperation",
    "JobOrder",
    "Objective",
    "Plan",
    "ProblemError",
    "QuantityChange",
    "ReplanResult",
    "RoutingOperation",
    "ScheduledOperation",
    "SetupRule",
    "ShopProblem",
    "SolveOptions",
    "UrgentOrder",
    "WorkUnit",
    "replan",
    "solve",
]
