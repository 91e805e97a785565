"""Errors raised while reading, checking and deploying BPMN diagrams.

Every error names the file, and where known the line and the element id, so a process engineer can
go straight to the place in the modeler.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding about a diagram: where it is and what is wrong."""

    file: str
    message: str
    line: int | None = None
    element_id: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.element_id:
            where += f" [{self.element_id}]"
        return f"{where}: {self.severity}: {self.message}"


class BpmnError(Exception):
    """A diagram that cannot be used, with the problems that say why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))

    @classmethod
    def single(
        cls, file: str, message: str, line: int | None = None, element_id: str | None = None
    ) -> BpmnError:
        return cls([Problem(file=file, message=message, line=line, element_id=element_id)])
