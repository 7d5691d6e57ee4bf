"""Salesforce's datetimes: ``2026-01-05T10:11:12.000+0000``, read by the client and by the emulator alike."""

from datetime import UTC, datetime


def parse_sf_datetime(value: str) -> datetime:
    """An ISO-8601 datetime as Salesforce writes or accepts it (``Z``, ``+0000``, ``+00:00``; a ``+`` that
    arrived as a space in a URL) as an aware UTC datetime; ValueError if it is not one."""
    text = value.strip().replace(" ", "+")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"datetime without a timezone: {value!r}")
    return parsed.astimezone(UTC)
