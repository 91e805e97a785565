"""Errors of the data layer; the API maps ``RecordNotFound`` to 404, ``RecordConflict`` to 409."""

from __future__ import annotations


class RecordNotFound(LookupError):
    def __init__(self, entity: str, key: object) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} {key!r} does not exist")


class RecordConflict(ValueError):
    """The request contradicts what is stored (duplicate number, wrong level, cycle...)."""
