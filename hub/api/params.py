"""Parsing of query parameters shared by API views; bad values are 400s that name the parameter."""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import ValidationError


def parse_instant(name: str, raw: str | None) -> datetime | None:
    """An ISO 8601 date or datetime; a date means its start, a naive time means UTC."""
    if raw is None or raw == "":
        return None
    value = raw.strip().replace(" ", "+")  # a '+' of an offset arrives as a space when not URL-encoded
    try:
        parsed = parse_datetime(value)
        if parsed is None and (day := parse_date(value)) is not None:
            parsed = datetime(day.year, day.month, day.day)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError({name: [f"{raw!r} is not an ISO 8601 datetime, e.g. 2026-03-31T17:00:00Z."]})
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def parse_int(name: str, raw: str | None, *, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise ValidationError({name: [f"{raw!r} is not a non-negative integer."]})
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f" between {minimum} and {maximum}" if maximum is not None else f" at least {minimum}"
        raise ValidationError({name: [f"must be{bound}."]})
    return value
