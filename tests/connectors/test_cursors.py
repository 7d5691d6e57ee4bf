"""Time cursors: reads start at the high-water mark and sweep back for late commits at most once a period, a
sweep's pages taking turns with deltas; nothing committed late is missed, whenever the pulls come and wherever
a read is cut short."""

import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import Change
from connectors.cursors import Start, Sweeping, TimeCursor, TimeRead

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OVERLAP, EVERY, SETTLE = timedelta(seconds=120), timedelta(seconds=60), timedelta(seconds=3)


class Platform:
    """Records stamped to the second when their transaction starts, readable once committed; read by keyset
    pages of ``page`` records (stamp, id), each page a query of its own, ``per_page`` of the clock apart."""

    def __init__(self, page: int = 5, per_page: float = 0.2) -> None:
        self.now = T
        self.records: dict[str, tuple[datetime, datetime]] = {}  # id -> (stamp, committed at)
        self.page, self.per_page = page, timedelta(seconds=per_page)
        self.queries: list[Start] = []
        self.meanwhile: Callable[[], None] = lambda: None  # what others write while a page is read


    def write(self, record_id: str, lag: float = 0.0) -> None:
        stamp = self.now.replace(microsecond=0)
        self.records[record_id] = (stamp, self.now + timedelta(seconds=lag))

    def write_each_second(self, prefix: str, n: int) -> None:
        """``n`` records a second apart, ``<prefix>00`` first."""
        for i in range(n):
            self.write(f"{prefix}{i:02}")
            self.now += timedelta(seconds=1)

    def read(self, start: Start) -> Iterator[tuple[list[Change], bool]]:
        self.queries.append(start)
        key: tuple[datetime, str] | None = None
        while True:
            self.now += self.per_page
            self.meanwhile()
            rows = sorted((stamp, i) for i, (stamp, committed) in self.records.items() if committed <= self.now
                          and (start.at is None or stamp > start.at or (stamp == start.at and not start.after))
                          and (key is None or (stamp, i) > key))
            page, more = rows[:self.page], len(rows) > self.page
            yield [Change("Account", i, "client", {}, {}, modified_at=stamp) for stamp, i in page], more
            if not more:
                return
            key = page[-1]

    def pull(self, text: str, stop_after: int | None = None) -> tuple[str, list[list[str]]]:
        """One read from ``text``: the cursor of its last page and the ids of each page (``stop_after`` pages:
        a worker killed then)."""
        reading = TimeRead(TimeCursor.parse(text, datetime.fromisoformat), self.read, datetime.isoformat,
                           lambda: self.now, OVERLAP, EVERY, SETTLE)
        pages = []
        for page in reading.pages():
            text = page.cursor
            pages.append([c.external_id for c in page.changes])
            if stop_after is not None and len(pages) >= stop_after:
                break
        return text, pages


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


def test_where_reads_and_sweeps_start():
    assert TimeCursor(None).delta_start(now=T) == Start(None)
    assert not TimeCursor(None).sweep_due(now=T, every=EVERY)
    plain = TimeCursor(T)  # a mark with no sweep recorded: one is due, from the overlap before the mark
    assert plain.sweep_due(now=T, every=EVERY) and plain.sweep_start(OVERLAP) == Start(T - OVERLAP)
    swept = plain.swept(mark=T, at=T + timedelta(seconds=1, microseconds=5)).moved(T + timedelta(seconds=40))
    assert swept.swept_at == T + timedelta(seconds=1)  # to the second, rounded down: never a sweep late
    assert swept.moved(T) == swept  # a mark only moves forward
    assert swept.delta_start(now=T + timedelta(seconds=50)) == Start(T + timedelta(seconds=40))
    assert not swept.sweep_due(now=T + timedelta(seconds=60), every=EVERY)
    assert swept.sweep_due(now=T + timedelta(seconds=61), every=EVERY)
    # From the overlap before the mark as it was when the last sweep started; a first read that started after
    # the last stamp it read (records stamped long ago) sweeps from before that stamp.
    assert swept.sweep_start(OVERLAP) == Start(T - OVERLAP)
    assert TimeCursor(T, T + timedelta(days=9), T).sweep_start(OVERLAP) == Start(T - OVERLAP)


def test_a_mark_settled_since_the_read_that_set_it_is_read_from_after_its_second():
    swept = TimeCursor(T, T, T)
    # seen at T + 0.2 s: kept as T + 1 s (rounded up, never settled early)
    cursor = swept.moved(T + timedelta(seconds=5), T + timedelta(seconds=5, microseconds=200_000))
    assert cursor.high_seen_at == T + timedelta(seconds=6)
    assert cursor.moved(T + timedelta(seconds=5), T + timedelta(seconds=30)) == cursor  # the same mark: kept
    start = cursor.delta_start(now=T + timedelta(seconds=8, microseconds=999_999), settle=SETTLE)
    assert start == Start(T + timedelta(seconds=5))  # its second again: a record of it may commit yet
    assert cursor.delta_start(now=T + timedelta(seconds=9), settle=SETTLE) == Start(T + timedelta(seconds=5), True)
    # a mark whose read time is not known (a cursor written before) is never taken as settled
    assert not swept.moved(T + timedelta(seconds=5)).delta_start(now=T + timedelta(seconds=50), settle=SETTLE).after


def test_a_first_read_counts_as_a_sweep_started_when_it_started():
    platform = Platform()
    platform.write_each_second("r", 12)
    text, pages = platform.pull("")
    assert [len(p) for p in pages] == [5, 5, 2] and platform.queries == [Start(None)]
    cursor = TimeCursor.parse(text, datetime.fromisoformat)
    assert cursor.high == T + timedelta(seconds=11)
    assert cursor.swept_from == cursor.swept_at == T + timedelta(seconds=12)
    platform.now += timedelta(seconds=30)
    text, pages = platform.pull(text)  # within the minute: from the mark (settled: after its second)
    assert platform.queries[-1] == Start(T + timedelta(seconds=11), after=True) and pages == [[]]
    platform.now += timedelta(seconds=30)
    text, pages = platform.pull(text)  # a minute on: the delta, then a sweep from the overlap before the mark
    # (the read's last stamp here, earlier than when the read started), the delta again after each of its pages
    # but the last
    delta = Start(T + timedelta(seconds=11), after=True)
    assert platform.queries[2:] == [delta, Start(T + timedelta(seconds=11) - OVERLAP), delta, delta]
    assert pages == [[], ["r00", "r01", "r02", "r03", "r04"], ["r05", "r06", "r07", "r08", "r09"], ["r10", "r11"]]


def test_a_sweep_takes_turns_with_deltas_and_is_recorded_with_its_last_page():
    platform = Platform()
    platform.write_each_second("old", 20)
    text, _ = platform.pull("")
    before = TimeCursor.parse(text, datetime.fromisoformat)
    platform.now += EVERY + timedelta(seconds=1)
    # A change made while the sweep reads its first page is read before the sweep's second.
    platform.records["new"] = (platform.now.replace(microsecond=0), platform.now + timedelta(seconds=0.3))
    cut, pages = platform.pull(text, stop_after=3)
    assert pages == [[], [f"old{i:02}" for i in range(5)], ["new"]]
    # Cut short: the sweep is not recorded, it is under way, up to the second of the last record it read ...
    under_way = TimeCursor.parse(cut, datetime.fromisoformat)
    assert (under_way.swept_from, under_way.swept_at) == (before.swept_from, before.swept_at)
    assert under_way.sweeping is not None and under_way.sweeping.reached == T + timedelta(seconds=4)
    assert TimeCursor.parse(under_way.text(datetime.isoformat), datetime.fromisoformat) == under_way
    # ... and the next read goes on from that second (its records again), to the end.
    text, pages = platform.pull(cut)
    assert [i for p in pages for i in p if i.startswith("old")] == [f"old{i:02}" for i in range(4, 20)]
    done = TimeCursor.parse(text, datetime.fromisoformat)
    assert done.sweeping is None and done.swept_at == under_way.sweeping.at
    assert done.swept_from == under_way.sweeping.mark == before.high


@pytest.mark.parametrize("seed", range(4))
def test_no_commit_is_missed_whatever_the_pull_times_the_lags_and_the_cuts(seed):
    """Records stamped to the second commit a random while after their stamp (most at once, some within settle,
    a few late, all within the overlap), written between reads and while pages are read, and the hub pulls at
    random moments, some reads cut short after a random number of pages (a worker killed): every record is read
    once committed."""
    rng = random.Random(seed)
    platform = Platform(page=rng.choice([3, 5, 50]), per_page=rng.choice([0.05, 0.5, 2.0]))
    n = 0

    def write() -> None:
        nonlocal n
        platform.write(f"w{n}", lag=rng.choice([0.0, 0.0, 0.4, 2.5, rng.uniform(0, OVERLAP.total_seconds())]))
        n += 1

    for _ in range(300):  # records from before the first read
        write()
        platform.now += timedelta(seconds=rng.uniform(0, 1))
    platform.meanwhile = lambda: [write() for _ in range(rng.choice([0, 0, 0, 1, 2]))]
    text, seen = "", set()
    end = platform.now + timedelta(seconds=900)
    while platform.now < end:
        for _ in range(rng.choice([0, 1, 1, 3, 20])):  # a burst of writes
            write()
        stop_after = rng.choice([None, None, None, 1, 2, rng.randint(1, 30)])
        text, pages = platform.pull(text, stop_after)
        seen.update(i for p in pages for i in p)
        platform.now += timedelta(seconds=rng.choice([0.3, 0.5, 1, 3, 20, 70]))
    platform.meanwhile = lambda: None
    while platform.now < end + 2 * (OVERLAP + EVERY):  # quiet: what committed last is read too
        text, pages = platform.pull(text)
        seen.update(i for p in pages for i in p)
        platform.now += timedelta(seconds=rng.choice([1, 20]))
    assert set(platform.records) - seen == set()


def test_a_swept_cursor_fits_the_stream_cursor_column():
    from connectors.models import Stream

    stamp = T + timedelta(microseconds=123456)
    swept = TimeCursor(stamp).swept(mark=stamp, at=stamp + timedelta(minutes=5))
    moved = swept.moved(stamp + timedelta(minutes=5, microseconds=1), stamp + timedelta(minutes=6))
    sweeping = replace(moved, sweeping=Sweeping(stamp, stamp, stamp + timedelta(microseconds=654321)))
    assert len(sweeping.text(datetime.isoformat)) <= Stream._meta.get_field("cursor").max_length
