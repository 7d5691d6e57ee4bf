"""Time cursors that look back for late commits now and then, not at every pull.

A platform stamps a record when its transaction starts; the record becomes readable when it commits, up to
``overlap`` later. A pull reading from its high-water mark would miss a record stamped below the mark that
committed after the last read, so every read used to start ``overlap`` before the mark: a hub pulling every
few seconds read each record dozens of times (and the platform served it as many).

Now most reads start at the high-water mark (its second included: stamps are coarse), and a *sweep* looks back
at most once every ``every`` seconds of the hub's clock, from ``overlap`` before the mark as it was when the
previous sweep started. Nothing committed late is missed: the first sweep to start after such a record
committed starts from a mark read before the commit, so below the record's stamp (committed within ``overlap``
of it). A record is read about ``(overlap + every) / every`` times instead of once per pull.

A read from the mark takes the mark's own second again (a record stamped in it may have committed after the read
that set the mark), but only while that second is recent: once ``settle`` has passed on the hub's clock since a
read first had that mark, a record of it not read yet committed that long after the read, and is the sweep's, as
any late commit is. A quiet stream then reads from after its mark: it does not read the last second's records
again at every pull (after a bulk write, a thousand records a pull).

The cursor text is ``<mark>`` (after a first, full read: no sweep yet, so the next read sweeps) or
``<mark>|<mark when the last sweep started>|<when it started>[|<when a read first had this mark>]``, ISO-8601 each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

DEFAULT_SWEEP_S = 60  # a connector's ``sweep_s``: how often a read looks back for late commits
DEFAULT_SETTLE_S = 3  # a connector's ``settle_s``: how long the mark's second is read again (see the module)


@dataclass(frozen=True)
class Start:
    """Where a read begins: everything (``at`` None), the records stamped at ``at`` or later, or (``after``) only
    those stamped later than ``at``."""

    at: datetime | None
    after: bool = False


@dataclass(frozen=True)
class TimeCursor:
    high: datetime | None  # the latest platform stamp read
    swept_from: datetime | None = None  # the high-water mark when the last sweep started
    swept_at: datetime | None = None  # when it started, by the hub's clock
    high_seen_at: datetime | None = None  # when a read first had ``high`` as its mark, by the hub's clock

    @classmethod
    def parse(cls, text: str | None, stamp: Callable[[str], datetime]) -> TimeCursor:
        """``stamp`` parses one ISO-8601 part (and raises on a malformed one)."""
        if not text:
            return cls(None)
        high, _, rest = text.partition("|")
        if not rest:
            return cls(stamp(high))
        swept_from, _, rest = rest.partition("|")
        swept_at, _, seen_at = rest.partition("|")
        return cls(stamp(high), stamp(swept_from), stamp(swept_at), stamp(seen_at) if seen_at else None)

    def text(self, iso: Callable[[datetime], str]) -> str:
        if self.high is None:
            return ""
        if self.swept_from is None or self.swept_at is None:
            return iso(self.high)
        stamps = (self.high, self.swept_from, self.swept_at, *((self.high_seen_at,) if self.high_seen_at else ()))
        return "|".join(iso(t) for t in stamps)

    def read_from(self, *, now: datetime, overlap: timedelta, every: timedelta,
                  settle: timedelta | None = None) -> tuple[Start, TimeCursor]:
        """Where a read starting now begins, and the cursor its pages carry (with its high mark moved as they are
        read): a sweep records itself, a read from the mark keeps the last sweep. With ``settle``, a read from a
        mark a read first had ``settle`` ago or more starts after the mark's second (see the module)."""
        if self.high is None:
            return Start(None), self
        if self.swept_at is not None and self.swept_from is not None and now - self.swept_at < every:
            settled = settle is not None and self.high_seen_at is not None and now - self.high_seen_at >= settle
            return Start(self.high, after=settled), self
        # The sweep's time to the second (earlier, so never a sweep late).
        swept_at = now.replace(microsecond=0)
        return Start((self.swept_from or self.high) - overlap), replace(self, swept_from=self.high, swept_at=swept_at)

    def moved(self, high: datetime | None, seen_at: datetime | None = None) -> TimeCursor:
        """This cursor with its high-water mark at ``high`` if that is later, read by a read whose records were
        all committed by ``seen_at`` (the hub's clock once it had them; kept to the second, rounded up: never
        settled early)."""
        if high is None or (self.high is not None and high <= self.high):
            return self
        if seen_at is not None and seen_at.microsecond:
            seen_at = seen_at.replace(microsecond=0) + timedelta(seconds=1)
        return replace(self, high=high, high_seen_at=seen_at)
