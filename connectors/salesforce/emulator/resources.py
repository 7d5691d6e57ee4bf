"""The emulator's REST resources: query/queryAll paging, replication (updated/deleted), upserts, updates, records.

Each handler takes the parsed request and returns ``(status, body)``; ``ApiError`` becomes an error array.
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from canonical.demo.platforms import SF_PREFIX
from connectors.salesforce.emulator import soql
from connectors.salesforce.emulator.faults import BATCH_FAULTS, Faults
from connectors.salesforce.emulator.store import ApiError, Store, sf_time
from connectors.salesforce.timestamps import parse_sf_datetime as parse_time

API = "/services/data/v62.0"
DEFAULT_BATCH, MIN_BATCH, MAX_BATCH = 2000, 200, 2000
COLLECTION_LIMIT = 200
REPLICATION_DAYS, RECYCLE_BIN_DAYS = 30, 15
_ID = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")


def attributes(object_type: str, record_id: str) -> dict[str, str]:
    return {"type": object_type, "url": f"{API}/sobjects/{object_type}/{record_id}"}


def batch_size(header: str | None) -> int:
    """``Sforce-Query-Options: batchSize=N``: clamped to 200..2000 (a hint, as in Salesforce)."""
    for option in (header or "").split(","):
        name, _, value = option.partition("=")
        if name.strip() == "batchSize" and value.strip().isdigit():
            return min(max(int(value), MIN_BATCH), MAX_BATCH)
    return DEFAULT_BATCH


@dataclass(frozen=True)
class _Cursor:
    """A query's results past its first batch: the selected fields once, each row's Id and values."""

    resource: str
    object_type: str
    fields: tuple[str, ...]
    rows: list[tuple[str, tuple[Any, ...]]]
    batch: int
    expires_at: datetime


class QueryResource:
    """``/query`` and ``/queryAll``: the first batch, and later batches by ``<locator>-<offset>``.

    Only a query with more than one batch opens a cursor. A cursor and its results are kept for two days
    after the query ran, with no limit on how many are open (Salesforce's rule since API v56.0, for every
    version; before it, 10 per user and 15 minutes of inactivity); then, or for a locator never issued, the
    answer is 400 INVALID_QUERY_LOCATOR."""

    LIFETIME = timedelta(days=2)

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cursors: dict[str, _Cursor] = {}
        self._lock = threading.Lock()

    def start(self, resource: str, q: str | None, options: str | None) -> dict[str, Any]:
        if not q:
            raise soql.malformed("A query string is required: q=<SOQL>")
        with self.store.lock:
            query = soql.parse(q, self.store)
            found = soql.run(query, self.store, include_deleted=resource == "queryAll")
            now = self.store.now()
        if query.count:
            return {"totalSize": len(found), "done": True, "records": []}
        fields = tuple(dict.fromkeys(query.fields))
        rows = [(record_id, tuple(row[name] for name in fields)) for record_id, row in found]
        cursor = _Cursor(resource, query.object_type, fields, rows, batch_size(options), now + self.LIFETIME)
        locator = f"01g5g{secrets.token_hex(6).upper()}IAW"
        with self._lock:
            self._cursors = {k: c for k, c in self._cursors.items() if c.expires_at > now}
            if len(rows) > cursor.batch:
                self._cursors[locator] = cursor
        return self._page(locator, cursor, 0)

    def more(self, resource: str, locator_offset: str) -> dict[str, Any]:
        locator, _, offset = locator_offset.rpartition("-")
        now = self.store.now()
        with self._lock:
            cursor = self._cursors.get(locator)
            if cursor is not None and cursor.expires_at <= now:
                del self._cursors[locator]
                cursor = None
        if cursor is None or cursor.resource != resource or not offset.isdigit() or int(offset) > len(cursor.rows):
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(locator, cursor, int(offset))

    def _page(self, locator: str, cursor: _Cursor, offset: int) -> dict[str, Any]:
        end = offset + cursor.batch
        done = end >= len(cursor.rows)
        page: dict[str, Any] = {"totalSize": len(cursor.rows), "done": done}
        if not done:
            page["nextRecordsUrl"] = f"{API}/{cursor.resource}/{locator}-{end}"
        page["records"] = [{"attributes": attributes(cursor.object_type, record_id),
                            **dict(zip(cursor.fields, values, strict=True))}
                           for record_id, values in cursor.rows[offset:end]]
        return page


def _window(store: Store, params: dict[str, str], max_days: int) -> tuple[datetime, datetime, datetime]:
    """(start, latestDateCovered, now) of a replication request; seconds are ignored, as in Salesforce."""
    missing = [name for name in ("start", "end") if not params.get(name)]
    if missing:
        raise ApiError(400, "MISSING_ARGUMENT", f"Missing required parameter: {missing[0]}")
    try:
        start, end = (parse_time(params[name]).replace(second=0) for name in ("start", "end"))
    except ValueError:
        raise ApiError(400, "INVALID_REPLICATION_DATE", "start and end must be ISO-8601 datetimes") from None
    now = store.now()
    if end < start:
        raise ApiError(400, "INVALID_REPLICATION_DATE", "endDate must chronologically follow the startDate")
    if start < now - timedelta(days=max_days):
        raise ApiError(400, "INVALID_REPLICATION_DATE", f"startDate cannot be more than {max_days} days ago")
    return start, max(min(end, now.replace(second=0)), start), now


def updated(store: Store, object_type: str, params: dict[str, str]) -> dict[str, Any]:
    """``sobjects/<Object>/updated/``: ids whose SystemModstamp falls in [start, latestDateCovered)."""
    start, latest, _ = _window(store, params, REPLICATION_DAYS)
    with store.lock:
        ids = [r["Id"] for r in store.objects(object_type).values()
               if not r["IsDeleted"] and start <= parse_time(r["SystemModstamp"]) < latest]
    return {"ids": ids, "latestDateCovered": sf_time(latest)}


def deleted(store: Store, object_type: str, params: dict[str, str]) -> dict[str, Any]:
    """``sobjects/<Object>/deleted/``: the recycle bin's deletions in [start, latestDateCovered)."""
    store.objects(object_type)
    start, latest, now = _window(store, params, REPLICATION_DAYS)
    earliest = (now - timedelta(days=RECYCLE_BIN_DAYS)).replace(second=0)
    if store.purged_until is not None:
        earliest = max(earliest, store.purged_until)
    with store.lock:
        rows = [{"id": d.id, "deletedDate": sf_time(d.deleted_at)} for d in store.deleted_log
                if d.object_type == object_type and max(start, earliest) <= d.deleted_at < latest]
    return {"deletedRecords": rows, "earliestDateAvailable": sf_time(earliest), "latestDateCovered": sf_time(latest)}


def get_record(store: Store, object_type: str, record_id: str, params: dict[str, str]) -> dict[str, Any]:
    with store.lock:
        record = store.objects(object_type).get(record_id)
        if record is None or record["IsDeleted"]:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        names = [f.strip() for f in params["fields"].split(",")] if params.get("fields") else list(record)
        columns = store.fields(object_type)
        for name in names:
            if name not in columns:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{object_type}'")
        return {"attributes": attributes(object_type, record_id), **{n: record.get(n) for n in names}}


def _json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    return body


def upsert(store: Store, object_type: str, field: str, value: str, body: Any) -> tuple[int, dict[str, Any]]:
    """``PATCH sobjects/<Object>/<ExtField>/<value>``: 201 created or 200 updated."""
    fields = _json_object(body)
    with store.lock:
        record_id, created = store.upsert(store.objects(object_type), object_type, field, value, fields,
                                          store.now())
    return (201 if created else 200), {"id": record_id, "success": True, "errors": [], "created": created}


def _record_error(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    return {"id": None, "success": False, "errors": [{"statusCode": code, "message": message,
                                                       "fields": fields or []}]}


def update_record(store: Store, object_type: str, record_id: str, body: Any) -> tuple[int, None]:
    """``PATCH sobjects/<Object>/<Id>``: 204 No Content."""
    fields = _json_object(body)
    with store.lock:
        store.update(store.objects(object_type), object_type, record_id, fields, store.now())
    return 204, None


def _collection_records(body: Any) -> tuple[list[dict[str, Any]], bool]:
    """The records and ``allOrNone`` of a collection request, checked as Salesforce checks them."""
    request = _json_object(body)
    records = request.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ApiError(400, "JSON_PARSER_ERROR", "records must be an array of objects")
    if len(records) > COLLECTION_LIMIT:
        raise ApiError(400, "EXCEEDED_ID_LIMIT",
                       "record limit reached. cannot submit more than 200 records into this call")
    return records, bool(request.get("allOrNone", False))


def _collection(store: Store, faults: Faults, records: list[dict[str, Any]], all_or_none: bool, field: str,
                write: Callable[[dict[str, dict[str, dict[str, Any]]], dict[str, Any], datetime],
                                dict[str, Any]]) -> list[dict[str, Any]]:
    """Run ``write(tables, record, at)`` per record; per-record errors; ``allOrNone`` rolls all back.

    ``tables`` maps object type -> table: the org's own, or staging copies of them when ``allOrNone``."""
    batch_fault = faults.take(list(BATCH_FAULTS))
    with store.lock:
        types = {(r.get("attributes") or {}).get("type") for r in records}
        tables = {t: store.objects(t) for t in types}
        target = copy.deepcopy(tables) if all_or_none else tables
        at, results = store.now(), []
        for index, record in enumerate(records):
            if batch_fault and index % 2 == 1:
                code = BATCH_FAULTS[batch_fault]
                message = (f"duplicate value found: {field} duplicates value on record with id: {record.get(field)}"
                           if code == "DUPLICATE_VALUE" else "unable to obtain exclusive access to this record")
                results.append(_record_error(code, message, [field] if code == "DUPLICATE_VALUE" else []))
                continue
            try:
                results.append(write(target, record, at))
            except ApiError as exc:
                results.append(_record_error(exc.code, exc.message, exc.fields))
        if all_or_none:
            if all(r["success"] for r in results):
                for object_type, table in tables.items():
                    table.clear()
                    table.update(target[object_type])
            else:
                results = [r if not r["success"] else _record_error(
                    "ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records were valid "
                    "and the request was using AllOrNone header") for r in results]
    return results


def upsert_collection(store: Store, faults: Faults, object_type: str, field: str, body: Any) -> list[dict[str, Any]]:
    """``PATCH composite/sobjects/<Object>/<ExtField>``: per-record results; ``allOrNone`` rolls all back."""
    records, all_or_none = _collection_records(body)
    if any((r.get("attributes") or {}).get("type") != object_type for r in records):
        raise ApiError(400, "INVALID_TYPE", "Must send a concrete entity type.")

    def write(tables: dict[str, dict[str, dict[str, Any]]], record: dict[str, Any], at: datetime) -> dict[str, Any]:
        value = record.get(field)
        if value in (None, ""):
            raise ApiError(400, "MISSING_ARGUMENT", f"{field} not specified", [field])
        record_id, created = store.upsert(tables[object_type], object_type, field, str(value), record, at)
        return {"id": record_id, "success": True, "errors": [], "created": created}

    return _collection(store, faults, records, all_or_none, field, write)


def update_collection(store: Store, faults: Faults, body: Any) -> list[dict[str, Any]]:
    """``PATCH composite/sobjects``: update up to 200 records by their ``id`` (any objects, each naming its type
    in ``attributes``); one SaveResult per record, in order; ``allOrNone`` rolls all back."""
    records, all_or_none = _collection_records(body)
    if any(not (r.get("attributes") or {}).get("type") for r in records):
        raise ApiError(400, "INVALID_TYPE", "Must send a concrete entity type.")

    def write(tables: dict[str, dict[str, dict[str, Any]]], record: dict[str, Any], at: datetime) -> dict[str, Any]:
        object_type = record["attributes"]["type"]
        record_id = record.get("id") or record.get("Id")
        if not record_id:
            raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
        record_id = str(record_id)
        if not _ID.fullmatch(record_id) or not record_id.startswith(SF_PREFIX.get(object_type, record_id[:3])):
            raise ApiError(400, "MALFORMED_ID", f"malformed id {record_id}", ["Id"])
        fields = {k: v for k, v in record.items() if k not in ("id", "Id")}
        try:
            store.update(tables[object_type], object_type, record_id, fields, at)
        except ApiError as exc:
            if exc.code == "NOT_FOUND":  # a well-formed Id of no record in this org
                raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", []) from None
            raise
        return {"id": record_id, "success": True, "errors": []}

    return _collection(store, faults, records, all_or_none, "Id", write)
