"""Value types: quantities with units.

Stored quantities (orders, job orders, lots: ``mom.db.base.QUANTITY``) are bounded by
:func:`check_stored_amount`: finite, at most ``MAX_AMOUNT_DIGITS`` (15) significant digits, at most
``MAX_AMOUNT_DECIMALS`` (6) decimals, below ``AMOUNT_LIMIT`` (10^12). Fifteen digits is what SQLite
keeps exactly (its NUMERIC columns hold a double: 15 significant decimal digits round-trip, 16 or more
do not); PostgreSQL's NUMERIC(18, 6) would keep more, but one bound on both databases means a value
accepted is a value read back unchanged, wherever the plant runs.
"""

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


MAX_AMOUNT_DIGITS = 15
MAX_AMOUNT_DECIMALS = 6
AMOUNT_LIMIT = Decimal(10) ** 12
AMOUNT_BOUNDS = (f"a finite number below {AMOUNT_LIMIT:,.0f} with at most {MAX_AMOUNT_DIGITS} significant digits "
                 f"and {MAX_AMOUNT_DECIMALS} decimals")


def amount_problem(value: Decimal) -> str | None:
    """Why ``value`` cannot be stored as a quantity (see the module docstring), or None."""
    if not value.is_finite():
        return f"is not {AMOUNT_BOUNDS}"
    if abs(value) >= AMOUNT_LIMIT:
        return f"is too large: the limit is {AMOUNT_BOUNDS}"
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_AMOUNT_DECIMALS:
        return f"has more than {MAX_AMOUNT_DECIMALS} decimals: the limit is {AMOUNT_BOUNDS}"
    if len(value.normalize().as_tuple().digits) > MAX_AMOUNT_DIGITS:
        return f"has more than {MAX_AMOUNT_DIGITS} significant digits: the limit is {AMOUNT_BOUNDS}"
    return None


def check_stored_amount(value: Decimal | int | float | str, *, field: str = "quantity") -> Decimal:
    """``value`` as a Decimal the database keeps exactly, or :class:`DomainError` naming ``field``."""
    amount = to_decimal(value, field=field)
    problem = amount_problem(amount)
    if problem is not None:
        raise DomainError(f"{field}: '{value}' {problem}")
    return amount


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
