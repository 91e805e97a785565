"""Job orders as a machine holds them (ISA-95 job control, OPC 10031-4 / 40001-3 names).

A :class:`Recipe` is what ``Store`` loads: a recipe id, the quantity of good parts to make, and
setpoints. A :class:`JobOrder` carries the job id given by the MOM and its :class:`JobStatus`,
named after the ISA95JobOrderStateMachineType states (NotAllocated, AllowedToStart, Running,
Interrupted, Ended, Aborted). Pure data and validation, no OPC UA.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class JobStatus(Enum):
    NOT_ALLOCATED = "NotAllocated"
    ALLOWED_TO_START = "AllowedToStart"
    RUNNING = "Running"
    INTERRUPTED = "Interrupted"
    ENDED = "Ended"
    ABORTED = "Aborted"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.ENDED, JobStatus.ABORTED)


class RecipeError(ValueError):
    """A recipe that cannot be loaded; the message names the field and what is accepted."""


@dataclass(frozen=True)
class Recipe:
    recipe_id: str
    quantity: int
    setpoints: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Any, known_setpoints: tuple[str, ...]) -> Recipe:
        if not isinstance(data, dict):
            raise RecipeError(f"recipe must be a JSON object, got {type(data).__name__}")
        recipe_id = data.get("recipe_id")
        if not isinstance(recipe_id, str) or not recipe_id:
            raise RecipeError("recipe field 'recipe_id' must be a non-empty string")
        quantity = data.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise RecipeError(f"recipe field 'quantity' must be an integer >= 1, got {quantity!r}")
        raw_setpoints = data.get("setpoints", {})
        if not isinstance(raw_setpoints, dict):
            raise RecipeError("recipe field 'setpoints' must be an object of name -> number")
        setpoints: dict[str, float] = {}
        for name, value in raw_setpoints.items():
            if name not in known_setpoints:
                raise RecipeError(
                    f"recipe setpoint {name!r} is unknown; known: {', '.join(known_setpoints)}"
                )
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise RecipeError(f"recipe setpoint {name!r} must be a number, got {value!r}")
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                raise RecipeError(f"recipe setpoint {name!r} must be a finite number, got {value!r}")
            setpoints[name] = number
        return cls(recipe_id=recipe_id, quantity=quantity, setpoints=setpoints)

    @classmethod
    def from_json(cls, text: str, known_setpoints: tuple[str, ...]) -> Recipe:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecipeError(f"recipe is not valid JSON: {exc}") from None
        return cls.from_mapping(data, known_setpoints)

    def to_json(self) -> str:
        return json.dumps(
            {"recipe_id": self.recipe_id, "quantity": self.quantity, "setpoints": self.setpoints},
            sort_keys=True,
        )


@dataclass
class JobOrder:
    job_id: str
    recipe: Recipe
    status: JobStatus = JobStatus.ALLOWED_TO_START
    good_count: int = 0
    bad_count: int = 0
