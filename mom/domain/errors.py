"""Errors raised by domain rules; each names the entity and what would be right."""

from __future__ import annotations


class DomainError(ValueError):
    """A request breaks a rule of the plant model (wrong unit, unknown level, ...)."""


class NotPermitted(DomainError):
    """The person may not do this (a task claimed by someone else, not in its groups)."""


class IllegalTransition(DomainError):
    """A status change the entity's state machine does not allow.

    ``entity`` is the kind of thing ("production order", "job order", "lot"), ``entity_id`` its
    identifier, ``from_state``/``to_state`` the refused move and ``allowed`` the moves that exist.
    """

    def __init__(
        self,
        entity: str,
        entity_id: object,
        from_state: str,
        to_state: str,
        allowed: tuple[str, ...] = (),
    ) -> None:
        self.entity = entity
        self.entity_id = entity_id
        self.from_state = from_state
        self.to_state = to_state
        self.allowed = allowed
        choices = ", ".join(allowed) if allowed else "none (final state)"
        super().__init__(
            f"{entity} {entity_id}: cannot go from '{from_state}' to '{to_state}'; "
            f"allowed from '{from_state}': {choices}"
        )
