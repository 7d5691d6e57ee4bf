"""Time cursors that look back for late commits now and then, not at every pull, and never hold a pull up.

A platform stamps a record when its transaction starts; the record becomes readable when it commits, up to
``overlap`` later. A pull reading from its high-water mark would miss a record stamped below the mark that
committed after the last read, so every read used to start ``overlap`` before the mark: a hub pulling every
few seconds read each record dozens of times (and the platform served it as many).

Now most reads start at the high-water mark (its second included: stamps are coarse), and a *sweep* looks back
at most once every ``every`` seconds of the hub's clock, from ``overlap`` before the mark as it was when the
previous sweep started. Nothing committed late is missed: the first sweep to start after such a record
committed starts from a mark read before the commit, so below the record's stamp (committed within ``overlap``
of it). A first, full read counts as a sweep started when it started: what commits after that is stamped at
most ``overlap`` before it. A record is read about ``(overlap + every) / every`` times instead of once per pull.

A sweep may read many pages (after a bulk load, minutes of the hub's own writes read back): between two of its
pages the read takes the delta from the mark again, so a change made meanwhile waits for one page of the sweep,
not for the whole of it. The sweep is recorded as done only with its last page; a read cut short (a crash, or a
run's time budget) leaves it under way, and the next read goes on with it.

A read from the mark takes the mark's own second again (a record stamped in it may have committed after the read
that set the mark), but only while that second is recent: once ``settle`` has passed on the hub's clock since a
read first had that mark, a record of it not read yet committed that long after the read, and is the sweep's, as
any late commit is. A quiet stream then reads from after its mark: it does not read the last second's records
again at every pull (after a bulk write, a thousand records a pull).

A sweep longer than a run (a run stops at its time budget) goes on in the next one from the second it had
reached: the cursor carries the sweep under way.

The cursor text is ``<mark>`` (a cursor of before sweeps were recorded: the next read sweeps) or
``<mark>|<mark when the last sweep started>|<when it started>|[<when a read first had this mark>]`` and, while
a sweep is under way, ``|<the mark when it began>|<when it began>|<the second it has reached>``, ISO-8601 each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from connectors.base import Change, Page

# A connector's ``sweep_s``: how often a read looks back for late commits. Every record stamped within overlap + sweep
# of a sweep is read again by it, so a stream the hub writes to heavily (its own writes read back) is read about
# (overlap + sweep) / sweep times: three times at once a minute with a 120 s overlap, 1.4 at once in five minutes.
# Late commits are rare (a long transaction); finding one within minutes is soon enough.
DEFAULT_SWEEP_S = 300
DEFAULT_SETTLE_S = 3  # a connector's ``settle_s``: how long the mark's second is read again (see the module)


@dataclass(frozen=True)
class Start:
    """Where a read begins: everything (``at`` None), the records stamped at ``at`` or later, or (``after``) only
    those stamped later than ``at``."""

    at: datetime | None
    after: bool = False


@dataclass(frozen=True)
class Sweeping:
    """A sweep under way: begun when the mark was ``mark``, at ``at`` (the hub's clock), read up to the second
    ``reached`` (a read cut short goes on from that second)."""

    mark: datetime
    at: datetime
    reached: datetime


@dataclass(frozen=True)
class TimeCursor:
    high: datetime | None  # the latest platform stamp read
    swept_from: datetime | None = None  # the high-water mark when the last sweep started
    swept_at: datetime | None = None  # when it started, by the hub's clock
    high_seen_at: datetime | None = None  # when a read first had ``high`` as its mark, by the hub's clock
    sweeping: Sweeping | None = None  # a sweep begun and not read through yet

    @classmethod
    def parse(cls, text: str | None, stamp: Callable[[str], datetime]) -> TimeCursor:
        """``stamp`` parses one ISO-8601 part (and raises on a malformed one)."""
        if not text:
            return cls(None)
        parts = text.split("|")
        if len(parts) == 1:
            return cls(stamp(parts[0]))
        if len(parts) not in (3, 4, 7):
            raise ValueError(f"a time cursor has 1, 3, 4 or 7 parts, not {len(parts)}")
        high, swept_from, swept_at, seen_at, *sweeping = [*parts, ""][:4] + parts[4:]
        return cls(stamp(high), stamp(swept_from), stamp(swept_at), stamp(seen_at) if seen_at else None,
                   Sweeping(*(stamp(t) for t in sweeping)) if sweeping else None)

    def text(self, iso: Callable[[datetime], str]) -> str:
        if self.high is None:
            return ""
        if self.swept_from is None or self.swept_at is None:
            return iso(self.high)
        parts = [iso(self.high), iso(self.swept_from), iso(self.swept_at),
                 iso(self.high_seen_at) if self.high_seen_at else ""]
        if self.sweeping is not None:
            parts += [iso(self.sweeping.mark), iso(self.sweeping.at), iso(self.sweeping.reached)]
        return "|".join(parts).rstrip("|")

    def delta_start(self, *, now: datetime, settle: timedelta | None = None) -> Start:
        """Where a read of what changed since the mark begins: everything before a first read; the mark's second,
        or (with ``settle``, a read having first had the mark ``settle`` ago or more) after it (see the module)."""
        settled = settle is not None and self.high_seen_at is not None and now - self.high_seen_at >= settle
        return Start(self.high, after=settled and self.high is not None)

    def sweep_due(self, *, now: datetime, every: timedelta) -> bool:
        """A sweep is under way, or the last one began ``every`` ago or more."""
        return self.high is not None and (self.sweeping is not None or self.swept_at is None
                                          or now - self.swept_at >= every)

    def sweep_start(self, overlap: timedelta) -> Start:
        """Where a sweep starting now begins: the overlap before the mark as it was when the last one started (or
        before the mark now, if earlier: a first read that started after the last stamp it read)."""
        marks = [t for t in (self.swept_from, self.high) if t is not None]
        if not marks:
            raise ValueError("a cursor with no mark has nothing to sweep")
        return Start(min(marks) - overlap)

    def swept(self, *, mark: datetime | None, at: datetime) -> TimeCursor:
        """This cursor with a sweep recorded: started when the mark was ``mark``, at ``at`` (kept to the second,
        rounded down: never a sweep late)."""
        return replace(self, swept_from=mark, swept_at=at.replace(microsecond=0), sweeping=None)

    def moved(self, high: datetime | None, seen_at: datetime | None = None) -> TimeCursor:
        """This cursor with its high-water mark at ``high`` if that is later, read by a read whose records were
        all committed by ``seen_at`` (the hub's clock once it had them; kept to the second, rounded up: never
        settled early)."""
        if high is None or (self.high is not None and high <= self.high):
            return self
        if seen_at is not None and seen_at.microsecond:
            seen_at = seen_at.replace(microsecond=0) + timedelta(seconds=1)
        return replace(self, high=high, high_seen_at=seen_at)


#: Reads a platform from a Start, page by page: each page's changes, oldest first, and whether more follow.
PageReader = Callable[[Start], Iterator[tuple[Sequence[Change], bool]]]


@dataclass
class TimeRead:
    """One read of a stream by a time cursor: the delta from its mark and, when due, a sweep whose pages take
    turns with deltas (see the module). ``read`` reads the platform from a Start; ``iso`` writes a stamp of the
    cursor text; ``clock`` is the hub's clock."""

    cursor: TimeCursor
    read: PageReader
    iso: Callable[[datetime], str]
    clock: Callable[[], datetime]
    overlap: timedelta
    every: timedelta
    settle: timedelta | None = None

    def pages(self) -> Iterator[Page]:
        now = self.clock()
        if self.cursor.high is None:  # a first, full read: it counts as a sweep started now
            self.cursor = self.cursor.swept(mark=now.replace(microsecond=0), at=now)
            yield from self._delta(now, then_sweep=False)
            return
        due = self.cursor.sweep_due(now=now, every=self.every)
        yield from self._delta(now, then_sweep=due)
        if due:
            yield from self._sweep()

    def _delta(self, now: datetime, *, then_sweep: bool, quiet: bool = False) -> Iterator[Page]:
        """The changes since the mark, moving it. ``quiet`` (between a sweep's pages): no page when nothing
        changed."""
        for changes, has_more in self.read(self.cursor.delta_start(now=now, settle=self.settle)):
            fetched = self.clock()  # every record of the page committed by now
            for change in changes:
                self.cursor = self.cursor.moved(change.modified_at, fetched)
            if changes or not quiet:
                yield Page(changes=changes, cursor=self.cursor.text(self.iso), has_more=has_more or then_sweep)

    def _sweep(self) -> Iterator[Page]:
        """A sweep, or the rest of one a read cut short (from the second it had reached: its records again)."""
        under_way = self.cursor.sweeping
        if under_way is None:
            started, mark = self.clock().replace(microsecond=0), self.cursor.high
            start = self.cursor.sweep_start(self.overlap)
        else:
            started, mark, start = under_way.at, under_way.mark, Start(under_way.reached)
        for changes, has_more in self.read(start):
            if not has_more:  # done: recorded with its last page
                self.cursor = self.cursor.swept(mark=mark, at=started)
            else:
                stamps = [c.modified_at for c in changes if c.modified_at is not None]
                reached = max([*stamps, *([start.at] if start.at else [])], default=None)
                if mark is not None and reached is not None:
                    self.cursor = replace(self.cursor, sweeping=Sweeping(mark, started, reached))
            yield Page(changes=changes, cursor=self.cursor.text(self.iso), has_more=has_more)
            if has_more:
                yield from self._delta(self.clock(), then_sweep=True, quiet=True)
