"""Value types: quantities with units."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from mom.domain.errors import DomainError


def to_decimal(value: Decimal | int | float | str, *, field: str = "quantity") -> Decimal:
    """Parse a quantity without float noise (``0.1`` stays ``0.1``); refuse NaN and infinity."""
    try:
        result = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise DomainError(f"{field}: '{value}' is not a number") from None
    if not result.is_finite():
        raise DomainError(f"{field}: '{value}' is not a finite number")
    return result


def format_amount(value: Decimal) -> str:
    """``Decimal("4.250000")`` -> ``"4.25"``, ``Decimal("1E+2")`` -> ``"100"`` (for messages)."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True, slots=True)
class Quantity:
    """An amount of material in a unit of measure (``Quantity(Decimal("12.5"), "kg")``)."""

    amount: Decimal
    unit: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if not self.unit or not self.unit.strip():
            raise DomainError(f"quantity {self.amount}: a unit of measure is required")

    @classmethod
    def of(cls, amount: Decimal | int | float | str, unit: str) -> Quantity:
        return cls(to_decimal(amount), unit)

    def _same_unit(self, other: Quantity) -> None:
        if other.unit != self.unit:
            raise DomainError(
                f"cannot combine {self.amount} {self.unit} with {other.amount} {other.unit}: "
                f"units differ; convert to '{self.unit}' first"
            )

    def __add__(self, other: Quantity) -> Quantity:
        self._same_unit(other)
        return Quantity(self.amount + other.amount, self.unit)

    def __sub__(self, other: Quantity) -> Quantity:
        self._same_unit(other)
        return Quantity(self.amount - other.amount, self.unit)

    def __str__(self) -> str:
        return f"{format_amount(self.amount)} {self.unit}"
