"""The ISA-95 domain core: plain types and rules, no I/O and nothing else of the project."""

from mom.domain.errors import DomainError, IllegalTransition, NotPermitted
from mom.domain.status import (
    EquipmentLevel,
    IncidentStatus,
    JobOrderStatus,
    LotStatus,
    MachineEventKind,
    ProcessInstanceStatus,
    ProductionOrderStatus,
    QualityResult,
    TaskStatus,
    check_transition,
    is_terminal,
)
from mom.domain.values import Quantity

__all__ = [
    "DomainError",
    "EquipmentLevel",
    "IllegalTransition",
    "IncidentStatus",
    "JobOrderStatus",
    "LotStatus",
    "MachineEventKind",
    "NotPermitted",
    "ProcessInstanceStatus",
    "ProductionOrderStatus",
    "QualityResult",
    "Quantity",
    "TaskStatus",
    "check_transition",
    "is_terminal",
]
