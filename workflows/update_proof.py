"""Proof that an Update acting for a person passed the API's checks (issue J.10).

Temporal's port trusts whoever reaches it: without this, any process that can open 7233 could send
``complete_user_task`` with ``user="not-a-real-user"`` and complete a four-eyes task. Every Update
that acts for a person (completing a user task, retrying an incident, migrating an instance) now
carries a proof: an HMAC-SHA256, with a key only the API, the CLI and the workers hold, over

    (namespace, workflow id, the update's name, its subject (task id, target spec), the user,
     the SHA-256 of the rest of its data, the time it was issued)

The workflow's ``@update.validator`` recomputes it and refuses a missing, forged, stale or
mismatched proof, naming the reason, before the Update is accepted (nothing reaches history).
:func:`sign` is the one function that makes proofs; :mod:`mom.instances` and :mod:`mom.migration`
(and through them the API, ``mom complete``, ``mom retry``, the demo, test-runs and the change
activities) send Updates only through it.

How the key reaches the workflow. Not in the workflow's input, memo or the Update's arguments:
all of those are in the history, which anyone on the port can read. The choice is a module-level
key that ``worker.build_worker`` installs from the settings when the worker starts
(:func:`install_key`), the pattern :func:`bpmn.spec_cache.install_loader` already uses for spec
loading. BpmnProcess runs outside the sandbox and this module passes through it, so the workflow
reads the same value the worker installed. Considered and not taken: a worker interceptor that
checks Updates before the workflow sees them. It would hold the key without a module global, but
the check would live apart from the workflow's other validation, and a worker built without the
interceptor would silently accept anything; with the installed key, a worker that has none
refuses every Update that needs a proof (it fails closed), and the refusal is one more line of the
workflow's own validators, next to the form checks. One key per process: the workers a process
runs serve one plant, which shares one secret (the last ``build_worker`` sets it).

Determinism and replay. ``hmac``/``hashlib``/``json`` are pure functions, and the clock is
``workflow.now()``. Validators do not run on replay, and the Update handlers ignore the proof, so
histories recorded before proofs existed (no ``proof`` field: ``None``) and histories recorded on a
worker with another key still replay. The window is generous (:data:`PAST_WINDOW` back,
:data:`FUTURE_WINDOW` ahead, for clocks of API hosts and Temporal that disagree a little); a proof
replayed inside it to the same instance for the same task and data only repeats what was proven
(completions are idempotent by task id).

An e-signature (issue J.3) rides on the same proof: ``CompleteUserTask.signature`` (the meaning
and the signer), set only by a caller that checked the password, is part of the signed data when
present (absent, the digest is the one before J.3), so an attestation added without the key does not
match, and the workflow refuses a task marked for signature without one.

The proof says that a holder of the key vouched for this user and this data; it does not stop a
process on the port from cancelling, terminating or signalling instances, or from reading their
histories. That is what mTLS on the port is for: the production layout (docker-compose.yml)
requires client certificates (``MOM_TEMPORAL_TLS_*``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from temporalio.converter import AdvancedJSONEncoder

from workflows.contracts import (
    COMPLETE_USER_TASK_UPDATE,
    MIGRATE_UPDATE,
    RETRY_UPDATE,
    CompleteUserTask,
    MigrateRequest,
    RetryIncident,
)

VERSION = "v1"
PAST_WINDOW = timedelta(minutes=15)
FUTURE_WINDOW = timedelta(minutes=5)

_installed: bytes | None = None

PersonUpdate = CompleteUserTask | RetryIncident | MigrateRequest
R = TypeVar("R", CompleteUserTask, RetryIncident, MigrateRequest)


class ProofRefused(ValueError):
    """An Update's proof is missing, malformed, forged, for other data, or outside the window."""


def install_key(key: bytes) -> None:
    """Set the key this process verifies (and, by default, signs) with: ``worker.build_worker`` does."""
    global _installed
    if len(key) < 16:
        raise ValueError("the update proof key must be at least 16 bytes")
    _installed = key


def installed_key() -> bytes | None:
    return _installed


def _digest(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``fields`` as the workflow will see them: the client encodes
    with Temporal's JSON converter (datetimes, dataclasses), the workflow re-encodes plain JSON."""
    text = json.dumps(fields, cls=AdvancedJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    plain = json.loads(text)  # e.g. a tuple sent is a list received: digest what arrives
    canonical = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _mac(key: bytes, namespace: str, workflow_id: str, update: str, subject: str, user: str | None,
         fields: dict[str, Any], issued_ms: int) -> str:
    message = json.dumps([VERSION, namespace, workflow_id, update, subject, user, _digest(fields), issued_ms],
                         separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _claims(request: PersonUpdate) -> tuple[str, str, str | None, dict[str, Any]]:
    """What a proof covers for each Update: its name, subject, user and the rest of its data
    (everything but the proof itself)."""
    if isinstance(request, CompleteUserTask):
        fields: dict[str, Any] = {"data": request.data, "reason": request.reason, "completed_at": request.completed_at}
        if request.signature is not None:  # the e-signature attestation (J.3): only a key holder can add it
            fields["signature"] = request.signature
        return COMPLETE_USER_TASK_UPDATE, request.task_id, request.user, fields
    if isinstance(request, RetryIncident):
        return RETRY_UPDATE, "", request.user, {"variables": request.variables}
    return MIGRATE_UPDATE, request.spec_sha256, request.user, {"version": request.version, "reason": request.reason}


def signed(request: R, *, key: bytes | None, namespace: str, workflow_id: str,
           issued_at: datetime | None = None) -> R:
    """``request`` with its proof: the one way Smart MOM sends an Update that acts for a person."""
    update, subject, user, fields = _claims(request)
    proof = sign(key, namespace=namespace, workflow_id=workflow_id, update=update, subject=subject, user=user,
                 fields=fields, issued_at=issued_at)
    return dataclasses.replace(request, proof=proof)


def check(request: PersonUpdate, *, namespace: str, workflow_id: str, now: datetime) -> None:
    """In the workflow's validator: raise :class:`ProofRefused` unless ``request`` carries a valid proof."""
    update, subject, user, fields = _claims(request)
    verify(request.proof, namespace=namespace, workflow_id=workflow_id, update=update, subject=subject, user=user,
           fields=fields, now=now)


def sign(key: bytes | None, *, namespace: str, workflow_id: str, update: str, subject: str, user: str | None,
         fields: dict[str, Any], issued_at: datetime | None = None) -> str:
    """The proof (``v1.<issued, ms since the epoch>.<hex HMAC>``) for one Update. ``key`` None: the
    installed key (see :func:`install_key`); a process with neither cannot sign."""
    key = key if key is not None else _installed
    if key is None:
        raise ProofRefused("no update proof key: pass Settings.update_proof_key, or install it "
                           "(workflows.update_proof.install_key)")
    issued_ms = int((issued_at or datetime.now(UTC)).timestamp() * 1000)
    return f"{VERSION}.{issued_ms}.{_mac(key, namespace, workflow_id, update, subject, user, fields, issued_ms)}"


def verify(proof: str | None, *, namespace: str, workflow_id: str, update: str, subject: str, user: str | None,
           fields: dict[str, Any], now: datetime) -> None:
    """Raise :class:`ProofRefused` naming why ``proof`` does not prove this Update (installed key)."""
    what = f"{update} of {subject or workflow_id} by {user!r}"
    if _installed is None:
        raise ProofRefused(f"{what} refused: this worker has no update proof key (worker.build_worker installs it)")
    if not proof:
        raise ProofRefused(f"{what} refused: it carries no proof of the API's checks (send it through the API "
                           "or the mom CLI)")
    parts = proof.split(".")
    if len(parts) != 3 or parts[0] != VERSION or not parts[1].isdigit() or len(parts[2]) != 64:
        raise ProofRefused(f"{what} refused: the proof is malformed (expected {VERSION}.<ms>.<64 hex digits>)")
    issued_ms = int(parts[1])
    expected = _mac(_installed, namespace, workflow_id, update, subject, user, fields, issued_ms)
    if not hmac.compare_digest(expected, parts[2]):
        raise ProofRefused(f"{what} refused: the proof does not match (forged, another key, or made for another "
                           "instance, task, user or data)")
    issued = datetime.fromtimestamp(issued_ms / 1000, UTC)
    if issued < now - PAST_WINDOW:
        raise ProofRefused(f"{what} refused: the proof expired (issued {issued.isoformat()}, "
                           f"valid for {PAST_WINDOW})")
    if issued > now + FUTURE_WINDOW:
        raise ProofRefused(f"{what} refused: the proof was issued in the future ({issued.isoformat()}; "
                           "are the clocks of the API and Temporal set?)")
