"""The NetSuite connector: deltas and deletions through SuiteQL, writes as ``eid:`` upserts (or updates by id).

Reading: SuiteQL selects ``id`` and ``TO_CHAR(lastmodifieddate, 'YYYY-MM-DD"T"HH24:MI:SS')`` (a sortable
timestamp in the account time zone) for the window ``lastmodifieddate >= high-water mark`` (every five minutes, from
``overlap_s`` before it, for records committed late: a time cursor, see connectors.cursors), ordered by
``lastmodifieddate, id``, each next page asked for the rows after the last one read (see ``_pages``). Customers and
projects come whole with their delta query (their fields, names through ``BUILTIN.DF``, the billing address
joined: see ``reads``); the other records (transactions, whose lines are another table) are then fetched from
the record service, several at once within the account's concurrency limit, as the mapping needs the record
as the record service returns it. Cursor stamps are ISO-8601 UTC strings (``2026-06-19T16:31:36+00:00``);
the account time zone (config ``timezone``) converts both ways. A first read that finds nothing yields one
empty page with cursor ``''`` (read as "from the start" next time). Around a DST fall-back a local time is
ambiguous; it is always read as the earlier instant, so the window only ever widens.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from connectors.base import Change, Connector, Page, Upsert, WriteResult
from connectors.cursors import DEFAULT_SETTLE_S, DEFAULT_SWEEP_S, PageReader, Start, TimeCursor, TimeRead
from connectors.errors import ConnectorError, RateLimited, Rejected
from connectors.netsuite import mapping, reads
from connectors.netsuite.client import NetSuiteClient

LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S"
RECORD_TIME = "%Y-%m-%dT%H:%M:%SZ"  # the record service's lastModifiedDate (UTC)
TO_CHAR = "'YYYY-MM-DD\"T\"HH24:MI:SS'"
# Writes in flight at once: NetSuite has no batch upsert and counts every request against the account's
# concurrency limit (5 or 15 by service tier, +10 per SuiteCloud Plus licence, shared with other integrations).
DEFAULT_CONCURRENCY, MAX_CONCURRENCY = 4, 15
READ_RETRIES, READ_RETRY_WAIT_S = 3, 5.0
# Record type -> (SuiteQL table, extra filter) and the label DeletedRecord.type gives it.
TABLES = {"customer": ("customer", ""), "job": ("job", ""), "salesOrder": ("transaction", "type = 'SalesOrd'"),
          "invoice": ("transaction", "type = 'CustInvc'")}
DELETED_LABELS = {"customer": "Customer", "job": "Project", "salesOrder": "Sales Order", "invoice": "Invoice"}


def parse_cursor(cursor: str | None) -> datetime | None:
    """An ISO-8601 cursor as an aware datetime (naive strings are taken as UTC); None or '' for none."""
    if not cursor:
        return None
    parsed = datetime.fromisoformat(cursor)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class NetSuiteConnector(Connector):
    """Config: ``client_id_env``, ``certificate_id_env``, ``private_key_env`` (names of environment variables),
    ``timezone`` (account time zone, default America/Los_Angeles), ``overlap_s`` (how late a record may commit
    after its stamp, default 120), ``sweep_s`` (how often a read looks back that far, default 300) and ``settle_s``
    (how long the mark's second is read again, default 3: see connectors.cursors),
    ``page_size`` (default 1000), ``concurrency`` (requests in flight at once, 1 to 15, default 4)."""

    kind = "netsuite"
    objects = mapping.OBJECTS

    def __init__(self, *, base_url: str, config: Mapping[str, Any],
                 transport: httpx.BaseTransport | None = None, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(base_url=base_url, config=config)
        self.client = NetSuiteClient(base_url=self.base_url, config=self.config, transport=transport)
        self.timezone = ZoneInfo(self.config.get("timezone", "America/Los_Angeles"))
        self.overlap = timedelta(seconds=float(self.config.get("overlap_s", 120)))
        self.sweep = timedelta(seconds=float(self.config.get("sweep_s", DEFAULT_SWEEP_S)))
        self.settle = timedelta(seconds=float(self.config.get("settle_s", DEFAULT_SETTLE_S)))
        self.clock = clock or (lambda: datetime.now(UTC))
        self.page_size = int(self.config.get("page_size", 1000))
        self.concurrency = min(max(int(self.config.get("concurrency", DEFAULT_CONCURRENCY)), 1), MAX_CONCURRENCY)

    def close(self) -> None:
        self.client.close()

    # -- time ------------------------------------------------------------------------------------------------

    def _to_local(self, moment: datetime) -> str:
        return moment.astimezone(self.timezone).strftime("%Y-%m-%d %H:%M:%S")

    def _from_local(self, text: str) -> datetime:
        # Every row of a read carries one: the ISO parser reads LOCAL_FORMAT's text ~25 times faster than strptime,
        # which still judges (and refuses) any other shape.
        if len(text) == 19 and text[10] == "T":
            local = datetime.fromisoformat(text)
        else:
            local = datetime.strptime(text, LOCAL_FORMAT)
        return local.replace(tzinfo=self.timezone, fold=0).astimezone(UTC)

    def _since_clause(self, column: str, since: datetime, key: str | None = None, after: int | None = None,
                      past: bool = False) -> str:
        """``column`` at or after ``since`` (``past``: after it); with the id ``after`` of the last row read at
        ``since`` (``key`` its column), only the rows after that one in the order ``column, key``: those of a later
        stamp, and those of ``since`` with a greater id. The leading ``>=`` stays: alone, it bounds the rows to those
        from ``since`` on, a range whatever the OR after it (the emulator bisects its order on it)."""
        at = f"TO_DATE('{self._to_local(since)}', 'YYYY-MM-DD HH24:MI:SS')"
        if past and after is None:
            return f"{column} > {at}"
        clause = f"{column} >= {at}"
        if key is None or after is None:
            return clause
        return f"{clause} AND ({column} > {at} OR ({column} = {at} AND {key} > {after}))"

    # -- reading ---------------------------------------------------------------------------------------------

    def _time_read(self, cursor: str | None, read: PageReader) -> Iterator[Page]:
        """The pages of a read from ``cursor`` (see connectors.cursors)."""
        try:
            held = TimeCursor.parse(cursor, parse_cursor)
        except ValueError:
            raise Rejected(f"cursor {cursor!r} is not an ISO-8601 datetime") from None
        return TimeRead(held, read, datetime.isoformat, self.clock, self.overlap, self.sweep, self.settle).pages()

    def _pages(self, build: Callable[[datetime | None, int | None, bool], str], column: str, key: str,
               start: Start) -> Iterator[tuple[list[dict[str, str]], bool]]:
        """Run ``build(start.at, None, start.after)`` page by page, each next page asked for the rows after the last
        one read (keyset paging): ``build(stamp, id, False)`` of that row, ``column`` and ``key`` its items' stamp
        and id.

        Offsets would skip rows: a record edited mid-pull moves to the end, and every later row shifts one place
        back, past the next offset; an offset over the rows read at the last stamp, asked again from that stamp,
        still skipped one when a record read at that stamp was edited. After the last row read by (stamp, id), a
        page starts at the first row not read, wherever the rows before it went, and a moved record is read again
        at its new place. TO_CHAR gives the stamp to the second and TO_DATE reads it back so, and SuiteQL's
        datetimes are Oracle DATEs, kept to the second (as the emulator keeps them): ``= stamp`` finds the rows of
        that second."""
        since, after, past = start.at, None, start.after
        while True:
            page = self.client.suiteql(build(since, after, past), limit=self.page_size)
            items = list(page.get("items") or [])
            has_more = bool(page.get("hasMore")) and bool(items)
            yield items, has_more
            if not has_more:
                return
            since, after, past = self._from_local(items[-1][column]), int(items[-1][key]), False

    def _query(self, record_type: str, since: datetime | None, after: int | None = None, past: bool = False) -> str:
        table, extra = TABLES[record_type]
        whole = reads.WHOLE.get(record_type)
        stamp, key = (f"{table}.lastmodifieddate", f"{table}.id") if whole else ("lastmodifieddate", "id")
        where = [c for c in (extra, self._since_clause(stamp, since, key, after, past) if since else "") if c]
        # Only constants and formatted datetimes go into the query: no caller text, nothing to inject.
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        if whole:
            return (f"SELECT {table}.id AS id, TO_CHAR({stamp}, {TO_CHAR}) AS lastmodified, "  # noqa: S608
                    f"{whole.select(table)}{clause} ORDER BY {stamp}, {key}")
        return f"SELECT id, TO_CHAR(lastmodifieddate, {TO_CHAR}) AS lastmodified FROM {table}{clause} ORDER BY lastmodifieddate, id"  # noqa: S608, E501

    def read_changes(self, object_type: str, cursor: str | None) -> Iterator[Page]:
        if object_type not in mapping.INBOUND or object_type not in TABLES:
            raise ValueError(f"netsuite: cannot read {object_type!r}")
        entity_type = self.objects.get(object_type, "revenue_event")
        whole = reads.WHOLE.get(object_type)

        def read(start: Start) -> Iterator[tuple[list[Change], bool]]:
            for items, has_more in self._pages(lambda since, after, past: self._query(object_type, since, after, past),
                                               "lastmodified", "id", start):
                stamps = [self._from_local(item["lastmodified"]) for item in items]
                if whole:
                    records = [whole.record(item, str(item["id"]), modified.strftime(RECORD_TIME))
                               for item, modified in zip(items, stamps, strict=True)]
                else:
                    records = self._records(object_type, [item["id"] for item in items])
                yield [self._change(object_type, entity_type, item["id"], record, modified)
                       for item, record, modified in zip(items, records, stamps, strict=True)], has_more

        yield from self._time_read(cursor, read)

    def _records(self, object_type: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The page's records from the record service, up to ``concurrency`` requests in flight (in order); the
        first failure (a 429, say) is raised, as a sequential read would raise it."""
        if len(ids) <= 1 or self.concurrency == 1:
            return [self._get(object_type, record_id) for record_id in ids]
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="netsuite-read") as pool:
            futures = [pool.submit(contextvars.copy_context().run, self._get, object_type, record_id)
                       for record_id in ids]
            return [future.result() for future in futures]

    def _get(self, object_type: str, record_id: str) -> dict[str, Any]:
        """One record; over the concurrency limit (other integrations share it), wait as asked and try again a
        few times before giving the page up."""
        attempts = 0
        while True:
            try:
                return self.client.get(object_type, record_id)
            except RateLimited as exc:
                attempts += 1
                if attempts > READ_RETRIES:
                    raise
                time.sleep(min(exc.retry_after or 1.0, READ_RETRY_WAIT_S))

    def _change(self, object_type: str, entity_type: str, record_id: Any, record: Mapping[str, Any],
                modified: datetime | None) -> Change:
        payload = {k: v for k, v in record.items() if k != "links"}
        return Change(object_type=object_type, external_id=str(record_id), entity_type=entity_type,
                      attributes=mapping.INBOUND[object_type](payload), payload=payload, modified_at=modified,
                      hub_id=payload.get("externalId") or None)

    def parse_record(self, object_type: str, record: Mapping[str, Any]) -> Change:
        """A record as the record service returns it (``id``, ``lastModifiedDate`` in ISO form)."""
        if object_type not in mapping.INBOUND or "id" not in record:
            raise ValueError(f"netsuite: not a {object_type} record")
        modified = parse_cursor(record.get("lastModifiedDate")) if record.get("lastModifiedDate") else None
        return self._change(object_type, self.objects.get(object_type, "revenue_event"), record["id"], record,
                            modified)

    def read_deleted(self, object_type: str, cursor: str | None) -> Iterator[Page]:
        if object_type not in DELETED_LABELS:
            raise ValueError(f"netsuite: cannot read deletions of {object_type!r}")
        entity_type = self.objects.get(object_type, "revenue_event")

        def build(since: datetime | None, after: int | None, past: bool) -> str:
            where = [f"type = '{DELETED_LABELS[object_type]}'"]
            if since:
                where.append(self._since_clause("deleteddate", since, "recordid", after, past))
            clause = " AND ".join(where)  # constants and formatted datetimes only
            return f"SELECT recordid, type, TO_CHAR(deleteddate, {TO_CHAR}) AS deleted FROM DeletedRecord WHERE {clause} ORDER BY deleteddate, recordid"  # noqa: S608, E501

        def read(start: Start) -> Iterator[tuple[list[Change], bool]]:
            for items, has_more in self._pages(build, "deleted", "recordid", start):
                yield [Change(object_type=object_type, external_id=str(item["recordid"]), entity_type=entity_type,
                              attributes={}, payload=dict(item), modified_at=self._from_local(item["deleted"]),
                              deleted=True) for item in items], has_more

        yield from self._time_read(cursor, read)

    # -- writing ---------------------------------------------------------------------------------------------

    def write(self, upserts: Sequence[Upsert]) -> list[WriteResult]:
        """``PUT .../<type>/eid:<hub id>`` per record; a record NetSuite created itself (``Upsert.external_id``,
        its internal id) is updated with ``PATCH .../<type>/<internal id>`` and given the hub's id as its
        ``externalId``. Up to ``concurrency`` requests are in flight at once (the REST record service has no
        batch upsert); results come in the order given. After a 429 the records not sent yet are not sent
        (retryable results)."""
        throttled: list[RateLimited] = []
        with ThreadPoolExecutor(max_workers=max(min(self.concurrency, len(upserts)), 1),
                                thread_name_prefix="netsuite-write") as pool:
            # Each request runs in a copy of the caller's context: its correlation id, and whoever watches the
            # outcomes of platform requests (the circuit breaker), go with it.
            futures = [pool.submit(contextvars.copy_context().run, self._write_one, upsert, throttled)
                       for upsert in upserts]
            return [future.result() for future in futures]

    def _write_one(self, upsert: Upsert, throttled: list[RateLimited]) -> WriteResult:
        to_body = mapping.OUTBOUND.get(upsert.object_type)
        if to_body is None:
            return WriteResult(upsert.hub_id, ok=False, error=f"cannot write {upsert.object_type!r}")
        if throttled:
            return self._failed(upsert, throttled[0])
        try:
            if upsert.external_id is None:
                internal_id = self.client.upsert(upsert.object_type, upsert.hub_id, to_body(upsert.fields))
            else:
                internal_id = self.client.update(upsert.object_type, upsert.external_id,
                                                 {**to_body(upsert.fields), "externalId": upsert.hub_id})
        except RateLimited as exc:
            throttled.append(exc)
            return self._failed(upsert, exc)
        except ConnectorError as exc:
            return self._failed(upsert, exc)
        return WriteResult(upsert.hub_id, ok=True, external_id=internal_id, created=False)

    def written_attributes(self, upsert: Upsert) -> Mapping[str, Any]:
        """What reading the record back gives: the body written, mapped as a pulled record is (the address's
        country is also the client's country; a record written without ``isInactive`` is active)."""
        to_body, to_attributes = mapping.OUTBOUND.get(upsert.object_type), mapping.INBOUND.get(upsert.object_type)
        if to_body is None or to_attributes is None:
            return super().written_attributes(upsert)
        return to_attributes(to_body(upsert.fields))

    def held_hub_id(self, payload: Mapping[str, Any]) -> str | None:
        return payload.get("externalId") or super().held_hub_id(payload)

    @staticmethod
    def _failed(upsert: Upsert, exc: ConnectorError) -> WriteResult:
        details: dict[str, Any] = {"status": exc.status, "body": exc.body}
        if isinstance(exc, RateLimited):
            details["retry_after"] = exc.retry_after
        return WriteResult(upsert.hub_id, ok=False, error=str(exc), retryable=exc.retryable, details=details)
