"""One record type's records, indexed so the emulator stays fast at 100,000 records of a type.

A ``Table`` is the dict ``internal id -> record`` the store always was, and it keeps, through every change
made to it (set, delete, pop, clear, update), an index by ``externalId``, the highest internal id it has held
and a version that moves with each change. A record edited in place must be reported with ``changed(id)``:
the emulator's own edits (touch, upserts, updates) do, and so must any other code that edits a record's
``externalId`` without putting the record back.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from typing import Any

Record = dict[str, Any]
LOG_SIZE = 200_000  # changes remembered for readers catching up (halved when full)


class Table(dict[str, Record]):
    def __init__(self, records: Mapping[str, Record] | Iterable[tuple[str, Record]] = ()) -> None:
        super().__init__()
        #: Moves with every change: what a cached SuiteQL result of this table was computed from.
        self.version = 0
        #: The highest numeric internal id the table has held (since it was last cleared).
        self.top = 0
        self._by_external: dict[str, dict[str, None]] = {}  # externalId -> ids (ordered, like the dict)
        self._external: dict[str, str] = {}  # id -> the externalId it is indexed under
        #: (version, id) of each change, oldest first: what rows built at a version need to catch up (see
        #: ``changed_since``); a clear, or a log cut short, sends readers back to the whole table.
        self._log: list[tuple[int, str]] = []
        self._log_from = 0  # the log holds every change after this version
        #: every field name any record has had -> whether it is a sublist (``{"items": [...]}``); None while
        #: every value seen was empty. A field once seen stays: a record type's schema does not shrink.
        self.fields: dict[str, bool | None] = {}
        self.update(records)

    # -- the dict's changes ---------------------------------------------------------------------------------
    def __setitem__(self, record_id: str, record: Record) -> None:
        super().__setitem__(record_id, record)
        self.changed(record_id)

    def __delitem__(self, record_id: str) -> None:
        super().__delitem__(record_id)
        self._unindex(record_id)
        self.version += 1
        self._log.append((self.version, record_id))

    def pop(self, record_id: str, *default: Any) -> Any:
        if record_id not in self:
            if default:
                return default[0]
            raise KeyError(record_id)
        record = self[record_id]
        del self[record_id]
        return record

    def popitem(self) -> tuple[str, Record]:
        record_id = next(reversed(self))
        return record_id, self.pop(record_id)

    def clear(self) -> None:
        super().clear()
        self._by_external.clear()
        self._external.clear()
        self._log.clear()
        self.top = 0
        self.version += 1
        self._log_from = self.version

    def update(self, records: Any = (), /, **more: Record) -> None:
        for record_id, record in dict(records, **more).items():
            self[record_id] = record

    def setdefault(self, record_id: str, default: Any = None) -> Any:
        if record_id not in self:
            self[record_id] = default
        return self[record_id]

    def __ior__(self, records: Any) -> Table:
        self.update(records)
        return self

    # -- lookups --------------------------------------------------------------------------------------------
    def changed(self, record_id: str) -> None:
        """Re-read a record edited in place (its externalId may have changed)."""
        self._unindex(record_id)
        external_id = self[record_id].get("externalId")
        if isinstance(external_id, str):
            self._by_external.setdefault(external_id, {})[record_id] = None
            self._external[record_id] = external_id
        if record_id.isdigit():
            self.top = max(self.top, int(record_id))
        for key, value in self[record_id].items():
            if self.fields.get(key) is None:
                self.fields[key] = None if value is None else isinstance(value, dict) and "items" in value
        self.version += 1
        self._log.append((self.version, record_id))
        if len(self._log) > LOG_SIZE:
            cut = len(self._log) // 2
            self._log_from = self._log[cut - 1][0]
            del self._log[:cut]

    def changed_since(self, version: int) -> list[str] | None:
        """The ids of the records changed or deleted after ``version`` (each once), or None when the log does not
        reach back that far."""
        if version < self._log_from:
            return None
        start = bisect.bisect_right(self._log, (version, "\uffff"))
        return list(dict.fromkeys(record_id for _, record_id in self._log[start:]))

    def holding(self, external_id: str) -> list[str]:
        """The ids of the records whose externalId is ``external_id`` (the first to take it first)."""
        return [i for i in self._by_external.get(external_id, ()) if self[i].get("externalId") == external_id]

    def _unindex(self, record_id: str) -> None:
        external_id = self._external.pop(record_id, None)
        if external_id is not None:
            ids = self._by_external[external_id]
            del ids[record_id]
            if not ids:
                del self._by_external[external_id]
