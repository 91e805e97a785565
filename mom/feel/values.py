"""FEEL values as Python values, and their conversion to and from JSON.

FEEL value    Python value
number        decimal.Decimal (34 significant digits, like Java's BigDecimal/DECIMAL128)
string        str
boolean       bool
null          None
list          list
context       dict (str keys, insertion-ordered)
date          datetime.date
time          datetime.time (tzinfo optional)
date and time datetime.datetime (tzinfo optional; a zone id as zoneinfo.ZoneInfo)
days and time duration   datetime.timedelta
years and months duration YearsMonths (a number of months)
range         Range
function      FeelFunction

JSON of a result (``to_json``): a number is an int when integral, else a float (JSON has one number
type; Zeebe stores FEEL numbers as JSON numbers the same way, so a value written by an expression reads
back as Camunda would give it); a date, time or date and time is its ISO 8601 string (a zone id as
``@Europe/Berlin`` like FEEL's ``string()``); a duration is ISO 8601 (``P1DT2H``, ``P1Y2M``); a range is
its FEEL text (``[1..5]``); a function is null (it cannot leave the evaluator).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emax=6144, Emin=-6143,
                          traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


@dataclass(frozen=True, order=True)
class YearsMonths:
    """A years and months duration: a signed number of months."""

    months: int


@dataclass(frozen=True)
class Range:
    start: Any
    end: Any
    start_included: bool
    end_included: bool


@dataclass(frozen=True)
class FeelFunction:
    """A FEEL function value: a built-in (``call`` takes evaluated arguments) or a lambda."""

    name: str
    params: tuple[str, ...]
    call: Callable[..., Any]
    variadic: bool = False


def number(value: int | float | str | decimal.Decimal) -> decimal.Decimal:
    if isinstance(value, float):
        return CONTEXT.create_decimal(repr(value))
    return CONTEXT.create_decimal(value)


def from_python(value: Any) -> Any:
    """A JSON-like Python value (a workflow's variables) as a FEEL value."""
    if value is None or isinstance(value, bool | str | decimal.Decimal | dt.date | dt.time | dt.timedelta
                                   | YearsMonths | Range | FeelFunction):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return None
        return number(value)
    if isinstance(value, dict):
        return {str(k): from_python(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [from_python(v) for v in value]
    return str(value)


def _decimal_json(value: decimal.Decimal) -> int | float:
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def format_duration(value: dt.timedelta | YearsMonths) -> str:
    if isinstance(value, YearsMonths):
        sign = "-" if value.months < 0 else ""
        years, months = divmod(abs(value.months), 12)
        parts = (f"{years}Y" if years else "") + (f"{months}M" if months else "")
        return f"{sign}P{parts}" if parts else "P0Y"
    total = value.days * 86400 + value.seconds
    micro = value.microseconds
    negative = total < 0
    if negative:
        total, micro = -total, 0 if micro == 0 else micro
        if micro:
            total, micro = total - 1, 1_000_000 - micro
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "P" + (f"{days}D" if days else "")
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or micro:
        frac = f".{micro:06d}".rstrip("0") if micro else ""
        time += f"{seconds}{frac}S"
    if time:
        text += "T" + time
    if text == "P":
        text = "P0D"
    return ("-" if negative else "") + text


def _zone_suffix(tz: dt.tzinfo | None, value: dt.datetime | dt.time) -> str:
    if tz is None:
        return ""
    if isinstance(tz, ZoneInfo):
        return "@" + tz.key
    off = value.utcoffset()
    return _offset(off)


def _offset(off: dt.timedelta | None) -> str:
    if off is None:
        return ""
    if not off:
        return "Z"
    seconds = int(off.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _trim_fraction(text: str) -> str:
    """``10:15:30.987000`` as ``10:15:30.987`` (Python prints microseconds in full)."""
    return re.sub(r"(\.\d*?)0+$", r"\1", text).rstrip(".")


def format_time(value: dt.time) -> str:
    base = _trim_fraction(value.replace(tzinfo=None).isoformat())
    if value.tzinfo is None:
        return base
    if isinstance(value.tzinfo, ZoneInfo):
        return base + "@" + value.tzinfo.key
    return base + _offset(value.utcoffset())


def format_datetime(value: dt.datetime) -> str:
    base = _trim_fraction(value.replace(tzinfo=None).isoformat())
    return base + _zone_suffix(value.tzinfo, value)


def to_string(value: Any) -> str:
    """FEEL's ``string()`` of a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        if value == value.to_integral_value():
            return str(value.quantize(decimal.Decimal(1), context=CONTEXT)) if abs(value) < 10**34 else str(value)
        return format(value.normalize(CONTEXT), "f")
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return format_time(value)
    if isinstance(value, dt.timedelta | YearsMonths):
        return format_duration(value)
    if isinstance(value, list):
        return "[" + ", ".join(_quoted(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}:{_quoted(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Range):
        return (("[" if value.start_included else "(") + to_string(value.start) + ".." + to_string(value.end)
                + ("]" if value.end_included else ")"))
    if isinstance(value, FeelFunction):
        return f"function {value.name}"
    return str(value)


def _quoted(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value + '"'
    return to_string(value)


def to_json(value: Any) -> Any:
    """A FEEL value as a JSON value (see the module's docstring)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, decimal.Decimal):
        return _decimal_json(value)
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, FeelFunction):
        return None
    return to_string(value)


# --- temporal text -------------------------------------------------------------------------------------

_DATE = re.compile(r"^(-?\d{4,9})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2}|@[A-Za-z_/+\-0-9]+)?$")
_DURATION = re.compile(r"^(-)?P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)W)?(?:(-?\d+)D)?"
                       r"(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$")


def parse_date(text: str) -> dt.date | None:
    match = _DATE.match(text)
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _tz(text: str | None) -> dt.tzinfo | None:
    if not text:
        return None
    if text == "Z":
        return dt.UTC
    if text.startswith("@"):
        try:
            return ZoneInfo(text[1:])
        except (KeyError, ValueError, OSError):
            raise ValueError(text) from None
    sign = 1 if text[0] == "+" else -1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 18:
        raise ValueError(text)
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def parse_time(text: str, keep_zone: bool = False) -> dt.time | None:
    match = _TIME.match(text[1:] if text.startswith("T") else text)
    if not match:
        return None
    try:
        micro = int((match[4] or "0").ljust(6, "0")[:6])
        tz = _tz(match[5])
        if isinstance(tz, ZoneInfo) and not keep_zone:  # a time keeps the zone's (standard time) offset
            tz = dt.timezone(tz.utcoffset(dt.datetime(2000, 1, 1)) or dt.timedelta(0))
        return dt.time(int(match[1]), int(match[2]), int(match[3] or 0), micro, tzinfo=tz)
    except ValueError:
        return None


def parse_datetime(text: str) -> dt.datetime | None:
    if "T" not in text:
        return None
    date_text, _, time_text = text.partition("T")
    date = parse_date(date_text)
    zone = None
    if time_text.endswith("]") and "[" in time_text:
        time_text, _, zone = time_text[:-1].partition("[")
    time = parse_time(time_text, keep_zone=True)
    if date is None or time is None:
        return None
    if zone:
        try:
            return dt.datetime.combine(date, time.replace(tzinfo=None)).replace(tzinfo=ZoneInfo(zone))
        except (KeyError, ValueError, OSError):
            return None
    return dt.datetime.combine(date, time)


def parse_duration(text: str) -> dt.timedelta | YearsMonths | None:
    match = _DURATION.match(text)
    if not match or text.endswith("P") or text.endswith("T"):
        return None
    sign = -1 if match[1] else 1
    years, months, weeks, days, hours, minutes, seconds = match.groups()[1:]
    if (years or months) and not (weeks or days or hours or minutes or seconds):
        return YearsMonths(sign * (int(years or 0) * 12 + int(months or 0)))
    if years or months:
        return None
    delta = dt.timedelta(weeks=int(weeks or 0), days=int(days or 0), hours=int(hours or 0),
                         minutes=int(minutes or 0), seconds=float(seconds or 0))
    return delta if sign > 0 else -delta


def parse_temporal(text: str) -> Any:
    """The value of an ``@"..."`` literal: a date and time, date, time or duration, else None."""
    for parse in (parse_datetime, parse_date, parse_time, parse_duration):
        value = parse(text)  # type: ignore[operator]
        if value is not None:
            return value
    return None
