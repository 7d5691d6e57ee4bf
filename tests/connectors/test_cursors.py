"""Time cursors: reads start at the high-water mark, and sweep back for late commits at most once a period."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from connectors.cursors import Start, TimeCursor

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OVERLAP, EVERY, SETTLE = timedelta(seconds=120), timedelta(seconds=60), timedelta(seconds=3)


def read(cursor: TimeCursor, now: datetime) -> tuple[datetime | None, TimeCursor]:
    start, cursor = cursor.read_from(now=now, overlap=OVERLAP, every=EVERY)
    assert not start.after  # without settle, a read always takes the mark's second again
    return start.at, cursor


def test_text_round_trips_and_a_plain_mark_is_read_as_before():
    swept = TimeCursor(T, T - timedelta(seconds=30), T + timedelta(seconds=5))
    assert TimeCursor.parse(swept.text(datetime.isoformat), datetime.fromisoformat) == swept
    seen = TimeCursor(T, T - timedelta(seconds=30), T + timedelta(seconds=5), T + timedelta(seconds=2))
    assert TimeCursor.parse(seen.text(datetime.isoformat), datetime.fromisoformat) == seen
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
    moved = swept.moved(stamp + timedelta(minutes=5, microseconds=1), stamp + timedelta(minutes=6))
    assert len(moved.text(datetime.isoformat)) <= Stream._meta.get_field("cursor").max_length


def test_a_mark_settled_since_the_read_that_set_it_is_read_from_after_its_second():
    swept = TimeCursor(T, T, T)  # swept at T: no sweep due for a minute
    # seen at T + 0.2 s: kept as T + 1 s (rounded up, never settled early)
    cursor = swept.moved(T + timedelta(seconds=5), T + timedelta(seconds=5, microseconds=200_000))
    assert cursor.high_seen_at == T + timedelta(seconds=6)
    assert cursor.moved(T + timedelta(seconds=5), T + timedelta(seconds=30)) == cursor  # the same mark: kept
    start, _ = cursor.read_from(now=T + timedelta(seconds=8, microseconds=999_999), overlap=OVERLAP, every=EVERY,
                                settle=SETTLE)
    assert start == Start(T + timedelta(seconds=5))  # its second again: a record of it may commit yet
    start, same = cursor.read_from(now=T + timedelta(seconds=9), overlap=OVERLAP, every=EVERY, settle=SETTLE)
    assert start == Start(T + timedelta(seconds=5), after=True) and same == cursor
    # a sweep looks back whatever the mark
    start, _ = cursor.read_from(now=T + timedelta(seconds=61), overlap=OVERLAP, every=EVERY, settle=SETTLE)
    assert start == Start(T - OVERLAP)
    # a mark whose read time is not known (a cursor written before) is never taken as settled
    start, _ = swept.moved(T + timedelta(seconds=5)).read_from(now=T + timedelta(seconds=50), overlap=OVERLAP,
                                                               every=EVERY, settle=SETTLE)
    assert not start.after


def test_no_commit_is_missed_when_settled_marks_are_read_from_after_their_second():
    """Records stamped to the second commit a random while after their stamp (most at once, some within settle,
    a few late, all within the overlap); pulled at arbitrary moments, some read covers each once committed."""
    rng = random.Random(11)
    for _ in range(300):
        cursor, now = TimeCursor(T), T
        stamp = T + timedelta(seconds=rng.randint(0, 600))
        lag = rng.choice([0.0, 0.4, 2.5, rng.uniform(0, OVERLAP.total_seconds())])
        committed = stamp + timedelta(seconds=lag)
        seen = False
        while now < committed + timedelta(seconds=600):
            now += timedelta(seconds=rng.choice([0.3, 0.5, 1, 3, 20, 70]))
            start, cursor = cursor.read_from(now=now, overlap=OVERLAP, every=EVERY, settle=SETTLE)
            if committed <= now and (start.at is None or start.at < stamp or (start.at == stamp and not start.after)):
                seen = True
                break
            # other records keep arriving, stamped to the second: the mark follows the platform's clock
            cursor = cursor.moved(now.replace(microsecond=0), now)
        assert seen, (stamp, lag)
