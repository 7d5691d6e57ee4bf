"""Time cursors: reads start at the high-water mark, and sweep back for late commits at most once a period."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from connectors.cursors import TimeCursor

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OVERLAP, EVERY = timedelta(seconds=120), timedelta(seconds=60)


def read(cursor: TimeCursor, now: datetime) -> tuple[datetime | None, TimeCursor]:
    return cursor.read_from(now=now, overlap=OVERLAP, every=EVERY)


def test_text_round_trips_and_a_plain_mark_is_read_as_before():
    swept = TimeCursor(T, T - timedelta(seconds=30), T + timedelta(seconds=5))
    assert TimeCursor.parse(swept.text(datetime.isoformat), datetime.fromisoformat) == swept
    assert TimeCursor.parse(T.isoformat(), datetime.fromisoformat) == TimeCursor(T)
    assert TimeCursor.parse("", datetime.fromisoformat) == TimeCursor(None)
    assert TimeCursor(None).text(datetime.isoformat) == ""
    with pytest.raises(ValueError):
        TimeCursor.parse(f"{T.isoformat()}|later|{T.isoformat()}", datetime.fromisoformat)


def test_a_read_sweeps_when_due_and_otherwise_starts_at_the_mark():
    assert read(TimeCursor(None), T) == (None, TimeCursor(None))  # everything, no sweep recorded
    start, after_full = read(TimeCursor(T), T + timedelta(seconds=1, microseconds=5))  # the first read sweeps
    assert start == T - OVERLAP and after_full == TimeCursor(T, T, T + timedelta(seconds=1))
    moved = after_full.moved(T + timedelta(seconds=40))
    assert moved.moved(T) == moved  # a mark only moves forward
    start, same = read(moved, T + timedelta(seconds=50))
    assert start == T + timedelta(seconds=40) and same == moved
    # Due a minute after the last sweep: from the overlap before the mark as it was when that sweep started.
    start, swept = read(moved, T + timedelta(seconds=61))
    assert start == T - OVERLAP
    assert swept == TimeCursor(T + timedelta(seconds=40), T + timedelta(seconds=40), T + timedelta(seconds=61))


def test_no_late_commit_is_missed_whatever_the_pull_times():
    """A record stamped at s commits within the overlap; pulled at arbitrary moments, some read covers it once
    it is committed."""
    rng = random.Random(7)
    for _ in range(300):
        cursor, now = TimeCursor(T), T
        stamp = T + timedelta(seconds=rng.uniform(0, 600))
        committed = stamp + timedelta(seconds=rng.uniform(0, OVERLAP.total_seconds()))
        seen = False
        while now < committed + timedelta(seconds=600):
            now += timedelta(seconds=rng.choice([0.5, 3, 20, 70]))
            start, cursor = read(cursor, now)
            if committed <= now and (start is None or start <= stamp):
                seen = True
                break
            # other records keep arriving: the mark follows the platform's clock
            cursor = cursor.moved(now)
        assert seen, (stamp, committed)


def test_a_swept_cursor_fits_the_stream_cursor_column():
    from connectors.models import Stream

    stamp = T + timedelta(microseconds=123456)
    _, swept = read(TimeCursor(stamp), stamp + timedelta(minutes=5))
    assert len(swept.text(datetime.isoformat)) <= Stream._meta.get_field("cursor").max_length
