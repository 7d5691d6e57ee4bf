"""Golden values as stewards compare them and as an override's JSON holds them."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import models


def value_plain(value: Any) -> Any:
    """A related record by its id, money and dates as text; other values as they are."""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Decimal | dt.date | uuid.UUID):
        return str(value)
    return value


def value_present(value: Any) -> bool:
    return value is not None and value != ""


def value_same(a: Any, b: Any) -> bool:
    """Equal as text, with None and "" both meaning no value."""
    a, b = value_plain(a), value_plain(b)
    return (not value_present(a) and not value_present(b)) or str(a) == str(b)
