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

The cursor text is ``<mark>`` (after a first, full read: no sweep yet, so the next read sweeps) or
``<mark>|<mark when the last sweep started>|<when it started>``, ISO-8601 each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

DEFAULT_SWEEP_S = 60  # a connector's ``sweep_s``: how often a read looks back for late commits


@dataclass(frozen=True)
class TimeCursor:
    high: datetime | None  # the latest platform stamp read
    swept_from: datetime | None = None  # the high-water mark when the last sweep started
    swept_at: datetime | None = None  # when it started, by the hub's clock

    @classmethod
    def parse(cls, text: str | None, stamp: Callable[[str], datetime]) -> TimeCursor:
        """``stamp`` parses one ISO-8601 part (and raises on a malformed one)."""
        if not text:
            return cls(None)
        high, _, rest = text.partition("|")
        if not rest:
            return cls(stamp(high))
        swept_from, _, swept_at = rest.partition("|")
        return cls(stamp(high), stamp(swept_from), stamp(swept_at))

    def text(self, iso: Callable[[datetime], str]) -> str:
        if self.high is None:
            return ""
        if self.swept_from is None or self.swept_at is None:
            return iso(self.high)
        return "|".join(iso(t) for t in (self.high, self.swept_from, self.swept_at))

    def read_from(self, *, now: datetime, overlap: timedelta, every: timedelta) -> tuple[datetime | None, TimeCursor]:
        """Where a read starting now begins (None: everything), and the cursor its pages carry (with its high
        mark moved as they are read): a sweep records itself, a read from the mark keeps the last sweep."""
        if self.high is None:
            return None, self
        if self.swept_at is not None and self.swept_from is not None and now - self.swept_at < every:
            return self.high, self
        # The sweep's time to the second (earlier, so never a sweep late): three stamps fit a 100-character cursor.
        swept_at = now.replace(microsecond=0)
        return (self.swept_from or self.high) - overlap, replace(self, swept_from=self.high, swept_at=swept_at)

    def moved(self, high: datetime | None) -> TimeCursor:
        """This cursor with its high-water mark at ``high`` if that is later."""
        if high is None or (self.high is not None and high <= self.high):
            return self
        return replace(self, high=high)
