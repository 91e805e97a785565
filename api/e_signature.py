"""Electronic signatures on task completions (issue J.3, 21 CFR Part 11 style).

A user task whose diagram sets the task header ``signature`` (its meaning, e.g. "approved by",
"reviewed") is completed only with the signer's password entered again: the token says who is
signed in, the password shows it is that person at this moment (a token left open on a shared
station is not a signature). The completion body's ``password`` is checked against the signed-in
user's hash and then dropped: never stored, logged or sent to the workflow. The completion's audit
entry records who signed, when and the meaning (:func:`mom.db.inbox.mark_task_completed`).

The workflow enforces it too: the completion Update carries an attestation (meaning, signer)
that the API adds only after this check, covered by the update proof; without it the workflow's
validator refuses the completion (a client on Temporal's port, or ``mom complete`` without
``--password-stdin``, cannot skip the password).

Refusals name the field: no password is 422 (``password`` required); a wrong one is 403, not 401,
because the token itself is fine (a 401 makes the web UI sign the person out).
"""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from api.deps import Principal
from mom.db.models import HumanTask
from mom.users import find_user, verify_password


def check_signature(session: Session, task: HumanTask, user: Principal, password: str | None) -> None:
    """Raise unless ``password`` is ``user``'s, for a task marked for signature; nothing otherwise."""
    if not task.signature:
        return
    ref = f"task {task.workflow_task_id} ({task.name})"
    if not password:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, {
            "message": f"{ref} needs your electronic signature ({task.signature}): enter your password",
            "errors": {"password": f"required: completing this task signs it as '{task.signature}'"}})
    account = find_user(session, username=user.username)
    if account is None or not account.active or not verify_password(account.password_hash, password):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"password: wrong password for {user.username}'s electronic "
                            f"signature of {ref}; the task was not completed")
