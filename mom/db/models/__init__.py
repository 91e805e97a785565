"""All tables; importing this package registers every model on ``Base.metadata``."""

from mom.db.base import Base
from mom.db.models.audit import AuditEntry, AuditHead
from mom.db.models.equipment import (
    Capability,
    Equipment,
    NodeBinding,
    OpcUaEndpoint,
    PlannedDowntime,
    Shift,
)
from mom.db.models.materials import GenealogyLink, MaterialDefinition, MaterialLot, MaterialSublot
from mom.db.models.orders import JobOrder, ProductionOrder
from mom.db.models.processes import (
    HumanTask,
    InboxRevision,
    Incident,
    ProcessDefinition,
    ProcessInstance,
    TaskCandidateGroup,
    TaskCandidateUser,
)
from mom.db.models.products import BomLine, ProductDefinition, ProductRevision, RoutingOperation
from mom.db.models.records import MachineEvent, QualityRecord
from mom.db.models.specs import ProcessSource, ProcessSpec, ProcessSpecVersion
from mom.db.models.users import SignInAddress, User

__all__ = [
    "AuditEntry",
    "AuditHead",
    "Base",
    "BomLine",
    "Capability",
    "Equipment",
    "GenealogyLink",
    "HumanTask",
    "InboxRevision",
    "Incident",
    "JobOrder",
    "MachineEvent",
    "MaterialDefinition",
    "MaterialLot",
    "MaterialSublot",
    "NodeBinding",
    "OpcUaEndpoint",
    "PlannedDowntime",
    "ProcessDefinition",
    "ProcessInstance",
    "ProcessSource",
    "ProcessSpec",
    "ProcessSpecVersion",
    "ProductDefinition",
    "ProductRevision",
    "ProductionOrder",
    "QualityRecord",
    "RoutingOperation",
    "Shift",
    "SignInAddress",
    "TaskCandidateGroup",
    "TaskCandidateUser",
    "User",
]
