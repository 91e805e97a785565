"""Who an activity acts for (issue J.3): never a name from the diagram or a form.

The BpmnProcess workflow adds ``workflows.contracts.ACTING_INPUT`` to every service call, after the
diagram's inputs: the person from its own records (who completed the user task before, from the
API's token; else who started the instance). Activities write their audit entries as
``worker for <person>``: the system component together with the person it acts for. Names the
diagram or a form gave (``held_by='quality'``, a typed badge such as ``approved_by``) are kept in
the entries' ``details["noted"]`` (:func:`mom.db.audit.noting`), never as the actor.
"""

from __future__ import annotations

from typing import Any

from workflows.contracts import ACTING_INPUT

WORKER = "worker"


def acting_person(inputs: dict[str, Any]) -> str | None:
    acting = inputs.get(ACTING_INPUT)
    person = acting.get("person") if isinstance(acting, dict) else None
    return str(person) if person else None


def acting_actor(inputs: dict[str, Any]) -> str:
    """``worker for <person>``; ``worker`` alone for an instance nobody started (an old history)."""
    person = acting_person(inputs)
    return f"{WORKER} for {person}"[:100] if person else WORKER


def said(inputs: dict[str, Any], *names: str) -> dict[str, str]:
    """The names the diagram or a form gave for who did it (kept as audit details, not as the actor)."""
    return {name: str(inputs[name]) for name in names if inputs.get(name) not in (None, "")}
