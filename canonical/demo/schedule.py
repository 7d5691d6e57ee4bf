"""Calendar and money arithmetic for the demo: months, working days, amounts split to the cent."""

from __future__ import annotations

import calendar
import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
# Spelled out rather than strftime("%b"), which follows the process locale.
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")


def cents(value: Decimal | float | int) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: Sequence[float]) -> list[Decimal]:
    """Split ``total`` by ``weights`` into amounts rounded to the cent that add up to exactly ``total``."""
    scale = sum(weights)
    parts = [cents(total * Decimal(str(w / scale))) for w in weights[:-1]]
    return [*parts, total - sum(parts, Decimal("0"))]


def round_budget(value: float) -> Decimal:
    step = 5000 if value >= 500_000 else 1000 if value >= 100_000 else 500
    return cents(max(step, round(value / step) * step))


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def months_between(start: date, end: date) -> list[date]:
    """First days of the months from ``start``'s month to ``end``'s month, inclusive."""
    months, current = [], month_start(start)
    while current <= end:
        months.append(current)
        current = add_months(current, 1)
    return months


def working_day(day: date) -> date:
    """The same day, or the next Monday if it falls on a weekend."""
    return day + timedelta(days=max(0, 7 - day.weekday())) if day.weekday() >= 5 else day


def random_day(rng: random.Random, low: date, high: date) -> date:
    return low + timedelta(days=rng.randint(0, max(0, (high - low).days)))


def month_label(day: date) -> str:
    """Anaplan's time-dimension label, e.g. ``Mar 26``."""
    return f"{MONTH_NAMES[day.month - 1][:3]} {day.year % 100:02d}"


def month_name(day: date) -> str:
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"
