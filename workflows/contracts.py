"""Inputs and outputs of the BpmnProcess workflow, shared by the API, the CLI and tests.

One dataclass per message so fields can be added later without breaking running instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WORKFLOW_NAME = "BpmnProcess"
STATE_QUERY = "state"
USER_TASKS_QUERY = "user_tasks"
COMPLETE_USER_TASK_UPDATE = "complete_user_task"
RETRY_UPDATE = "retry"
MIGRATE_UPDATE = "migrate"
MIGRATION_CHECK_QUERY = "migration_check"
# Who an activity acts for (issue J.3): the workflow adds this input to every service call, after the
# diagram's inputs, so no diagram or form can set it: {"person": the user who completed the nearest
# user task before the service task on its path (the API's token, recorded by the update), else the
# starter; "started_by": who started the instance (the API's token, in the start input)}. Activities
# audit as "worker for <person>" (activities/acting.py); names typed in forms are kept as details.
ACTING_INPUT = "mom.acting"
# Call activities: the parent resolves the called process's latest version (a local activity),
# starts it as a child BpmnProcess; the child reports its incidents to the parent with this signal.
LATEST_VERSION_ACTIVITY = "processes.latest_version"
CHILD_INCIDENT_SIGNAL = "child_incident"
# A called instance tells its parent how it ended (besides Temporal's child completion event, which
# reaches only the parent run that started it): a parent that continued as new while the child ran
# learns the result from this signal.
CHILD_FINISHED_SIGNAL = "child_finished"
# ... and in case the child ends without that signal (terminated or timed out from outside), the
# parent's later run also awaits the child's outcome through the client (a heartbeating activity).
CHILD_OUTCOME_ACTIVITY = "processes.child_outcome"


def child_workflow_id(parent_workflow_id: str, task_id: str, attempt: int = 0) -> str:
    """The id of a call activity's child instance: the same for the same task (idempotent)."""
    return f"{parent_workflow_id}/{task_id}" + (f":retry{attempt}" if attempt else "")


@dataclass
class ChildIncident:
    """A child instance's incident opened (``incident`` set) or cleared (None)."""

    workflow_id: str
    incident: dict[str, Any] | None = None


@dataclass
class ChildFinished:
    """A called instance ended: with its variables, or with the business error nothing caught
    (``error``: message and details {code, variables...})."""

    workflow_id: str
    variables: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


@dataclass
class CarriedState:
    """What a BpmnProcess run hands to the next one when it continues as new."""

    state_json: str
    completed: list[str]
    completed_user_tasks: dict[str, str] = field(default_factory=dict)
    completed_by: dict[str, str | None] = field(default_factory=dict)
    seen_messages: list[str] = field(default_factory=list)
    subscriptions: list[list[str | None]] = field(default_factory=list)
    inbox_open: dict[str, str] = field(default_factory=dict)
    inbox_enabled: bool | None = None
    attempts: dict[str, int] = field(default_factory=dict)
    runs: int = 1
    signal_subscriptions: list[str] = field(default_factory=list)
    # call activities whose child instance still runs: task id -> [child workflow id, element id]
    children: dict[str, list[str]] = field(default_factory=dict)


DEFAULT_HISTORY_LIMIT = 10_000  # events; Temporal warns at 10,240 and stops at 51,200


@dataclass
class ProcessInput:
    process_id: str
    spec_sha256: str
    version: int | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    business_key: str | None = None
    started_by: str | None = None
    history_limit: int = DEFAULT_HISTORY_LIMIT
    carried: CarriedState | None = None
    start_message: MessageDelivery | None = None  # the message that started it (message start event)
    timer_start: bool = False  # started by a Temporal Schedule: its timer start event fires at once


@dataclass
class CompleteUserTask:
    task_id: str
    data: dict[str, Any] = field(default_factory=dict)
    user: str | None = None
    reason: str | None = None
    completed_at: str | None = None  # ISO time the API accepted it: the inbox row and the answer show the same
    proof: str | None = None  # workflows.update_proof: the API's checks passed (refused without)
    # e-signature attestation (issue J.3): {"meaning", "signed_by"}, set only after the password was checked;
    # covered by the proof; a task marked for signature is refused without it
    signature: dict[str, Any] | None = None


@dataclass
class MigrateRequest:
    spec_sha256: str
    version: int | None = None
    user: str | None = None
    reason: str | None = None
    proof: str | None = None  # workflows.update_proof


@dataclass
class RetryIncident:
    variables: dict[str, Any] = field(default_factory=dict)
    user: str | None = None
    proof: str | None = None  # workflows.update_proof


@dataclass
class ProcessResult:
    process_id: str
    status: str
    variables: dict[str, Any]
    completed: list[str]


# -- messages ------------------------------------------------------------------------------------
MESSAGE_SIGNAL = "deliver_message"
MAILBOX_WORKFLOW = "MessageMailbox"
MAILBOX_PUBLISH = "publish"
MAILBOX_SUBSCRIBE = "subscribe"
MAILBOX_UNSUBSCRIBE = "unsubscribe"
DEFAULT_MESSAGE_TTL_SECONDS = 3600.0


@dataclass
class MessageDelivery:
    """A published message: name + correlation key, its variables, and how long it is kept."""

    name: str
    key: str | None
    variables: dict[str, Any] = field(default_factory=dict)
    message_id: str = ""
    published_at: str = ""  # ISO 8601, set by the publisher
    ttl_seconds: float = DEFAULT_MESSAGE_TTL_SECONDS


@dataclass
class Subscription:
    workflow_id: str


@dataclass
class MailboxInput:
    name: str
    key: str | None
    pending: list[MessageDelivery] = field(default_factory=list)
    subscribers: list[str] = field(default_factory=list)
    delivered: dict[str, list[str]] = field(default_factory=dict)  # message id -> workflow ids
    deliver_as: str = MESSAGE_SIGNAL  # SIGNAL_SIGNAL: a signal board (see signal_board_id)


def mailbox_id(name: str, key: str | None) -> str:
    return f"mailbox:{name}:{'*' if key is None else key}"


# -- signals -------------------------------------------------------------------------------------
# A BPMN signal goes to every instance waiting for its name at that moment, and is not kept. The
# same MessageMailbox workflow serves as the signal's board: one per name, delivering with this
# Temporal signal name and a time-to-live of zero.
SIGNAL_SIGNAL = "deliver_signal"


def signal_board_id(name: str) -> str:
    return f"signal:{name}"
