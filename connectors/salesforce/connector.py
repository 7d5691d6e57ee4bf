"""The Salesforce connector: SOQL high-water-mark deltas, the deleted resource, composite ext-id upserts, updates.

Cursors are time cursors (connectors.cursors): changes are read on ``SystemModstamp >= high-water mark``, and
every five minutes (config ``sweep_s``) from ``overlap_s`` (default 120 s) before it, for records that committed
late; ordered by SystemModstamp, Id, so a record stamped in the same second as the last one seen is read again
rather than lost (the hub deduplicates unchanged payloads), until that second has settled (``settle_s``, 3 s after
the read that first saw it: later reads start after it, and a record of it committed later still is the sweep's).
Deletions come from ``sobjects/<Object>/deleted/``, whose next start is the previous ``latestDateCovered``.

``Upsert.fields`` are canonical attributes (mapped with ``mapping.to_salesforce``); ``Upsert.object_type``
is the Salesforce object (``Account``) or its canonical entity type (``client``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.base import Change, Connector, Page, Upsert, WriteResult
from connectors.cursors import DEFAULT_SETTLE_S, DEFAULT_SWEEP_S, Start, TimeCursor, TimeRead
from connectors.errors import ConnectorError, Rejected
from connectors.salesforce import mapping
from connectors.salesforce.client import (
    COLLECTION_LIMIT,
    MalformedResponse,
    SalesforceClient,
    error_codes,
    sf_datetime,
)
from connectors.salesforce.timestamps import parse_sf_datetime

DEFAULT_OVERLAP_S = 120
DELETED_LOOKBACK = timedelta(days=15)
RETRYABLE_RECORD_ERRORS = {"UNABLE_TO_LOCK_ROW"}


class ResyncRequired(ConnectorError):
    """Salesforce no longer keeps deletions as far back as the cursor: run a full resync of the object."""


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _parse_cursor(cursor: str) -> datetime:
    try:
        return parse_sf_datetime(cursor)
    except ValueError:
        raise Rejected(f"cursor {cursor!r} is not an ISO-8601 datetime") from None


class SalesforceConnector(Connector):
    kind = "salesforce"
    objects = mapping.OBJECTS

    def __init__(self, *, base_url: str, config: Mapping[str, Any], transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(base_url=base_url, config=config)
        self.overlap = timedelta(seconds=float(self.config.get("overlap_s", DEFAULT_OVERLAP_S)))
        self.sweep = timedelta(seconds=float(self.config.get("sweep_s", DEFAULT_SWEEP_S)))
        self.settle = timedelta(seconds=float(self.config.get("settle_s", DEFAULT_SETTLE_S)))
        self.external_id_field: str = self.config.get("external_id_field", "Hub_Id__c")
        self.clock = clock or (lambda: datetime.now(UTC))
        self.client = SalesforceClient(base_url=self.base_url, config=self.config, transport=transport)

    def _object(self, object_type: str) -> str:
        if object_type in self.objects:
            return object_type
        for name, entity_type in self.objects.items():
            if entity_type == object_type:
                return name
        raise Rejected(f"Salesforce connector does not handle {object_type!r}")

    # -- reading ----------------------------------------------------------------------------------------------
    def read_changes(self, object_type: str, cursor: str | None) -> Iterator[Page]:
        object_type = self._object(object_type)
        held = TimeCursor.parse(cursor, _parse_cursor)

        def read(start: Start) -> Iterator[tuple[list[Change], bool]]:
            where = f" WHERE SystemModstamp {'>' if start.after else '>='} {sf_datetime(start.at)}" if start.at else ""
            # Built from constants and a formatted datetime only: nothing from a payload or a user reaches it.
            soql = (f"SELECT {', '.join(mapping.FIELDS[object_type])} FROM {object_type}{where} "  # noqa: S608
                    "ORDER BY SystemModstamp, Id")
            result = self.client.query(soql)
            while True:
                records, next_url = _batch(result)
                yield [self.parse_record(object_type, record) for record in records], next_url is not None
                if next_url is None:
                    return
                result = self.client.query_more(next_url)

        yield from TimeRead(held, read, _iso, self.clock, self.overlap, self.sweep, self.settle).pages()

    def parse_record(self, object_type: str, record: Mapping[str, Any]) -> Change:
        payload = {k: v for k, v in record.items() if k != "attributes"}
        try:
            modified_at = parse_sf_datetime(payload["SystemModstamp"])
            record_id = payload["Id"]
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResponse(f"{object_type} record without a usable Id/SystemModstamp: {exc}") from None
        return Change(object_type=object_type, external_id=record_id, entity_type=self.objects[object_type],
                      attributes=mapping.to_canonical(object_type, payload), payload=payload,
                      modified_at=modified_at, deleted=bool(payload.get("IsDeleted")),
                      hub_id=payload.get(self.external_id_field) or None)

    def read_deleted(self, object_type: str, cursor: str | None) -> Iterator[Page]:
        """One page: the deletions from the cursor (or the last 15 days) up to Salesforce's latestDateCovered."""
        object_type = self._object(object_type)
        now = self.clock()
        start = _parse_cursor(cursor) if cursor else now - DELETED_LOOKBACK + timedelta(minutes=1)
        try:
            result = self.client.deleted(object_type, start, now)
        except Rejected as exc:
            if cursor and "INVALID_REPLICATION_DATE" in error_codes(exc.body):
                raise ResyncRequired(f"{object_type}: deletions since {cursor} are no longer available; run a "
                                     "full resync", status=exc.status, body=exc.body) from exc
            raise
        try:
            earliest = parse_sf_datetime(result["earliestDateAvailable"])
            latest = parse_sf_datetime(result["latestDateCovered"])
            rows = [(row["id"], parse_sf_datetime(row["deletedDate"])) for row in result["deletedRecords"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResponse(f"{object_type} deleted resource answered an unexpected shape: {exc}") from None
        if cursor and earliest > start:
            raise ResyncRequired(f"{object_type}: Salesforce keeps deletions only since {_iso(earliest)}, after the "
                                 f"cursor {cursor}; deletions may have been missed, run a full resync")
        entity_type = self.objects[object_type]
        changes = [Change(object_type=object_type, external_id=record_id, entity_type=entity_type, attributes={},
                          payload={"id": record_id, "deletedDate": _iso(deleted_at)}, modified_at=deleted_at,
                          deleted=True) for record_id, deleted_at in rows]
        yield Page(changes=changes, cursor=_iso(max(latest, start)), has_more=False)

    # -- writing ----------------------------------------------------------------------------------------------
    def write(self, upserts: Sequence[Upsert]) -> list[WriteResult]:
        """Composite upserts by the external-id field, 200 records a call. A record Salesforce created itself
        (``Upsert.external_id``) is updated by its Id and stamped with the hub's id instead: alone with
        ``PATCH sobjects/<Object>/<Id>``, several with composite updates of 200. Results in the order given."""
        results: list[WriteResult | None] = [None] * len(upserts)
        groups: dict[tuple[str, bool], list[int]] = {}
        for index, upsert in enumerate(upserts):
            try:
                groups.setdefault((self._object(upsert.object_type), upsert.external_id is not None), []).append(index)
            except Rejected as exc:
                results[index] = WriteResult(hub_id=upsert.hub_id, ok=False, error=str(exc))
        for (object_type, by_id), indexes in groups.items():
            for offset in range(0, len(indexes), COLLECTION_LIMIT):
                chunk = indexes[offset:offset + COLLECTION_LIMIT]
                records = [{**mapping.to_salesforce(object_type, upserts[i].fields),
                            self.external_id_field: upserts[i].hub_id} for i in chunk]
                if not by_id:
                    answers = self.client.upsert_collection(object_type, self.external_id_field, records)
                elif len(chunk) == 1:
                    answers = [self._update(object_type, str(upserts[chunk[0]].external_id), records[0])]
                else:
                    answers = self.client.update_collection(
                        object_type, [{"id": upserts[i].external_id, **record} for i, record in zip(chunk, records,
                                                                                                  strict=True)])
                for i, answer in zip(chunk, answers, strict=True):
                    results[i] = _write_result(upserts[i].hub_id, answer)
        return [r for r in results if r is not None]

    def _update(self, object_type: str, record_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """One record updated by its Id, answered like a collection's result (the record's refusal too)."""
        try:
            self.client.update(object_type, record_id, record)
        except Rejected as exc:  # NOT_FOUND, ENTITY_IS_DELETED, DUPLICATE_VALUE...: this record's answer
            errors = exc.body if error_codes(exc.body) else [{"message": str(exc)}]
            return {"id": record_id, "success": False, "errors": errors}
        return {"id": record_id, "success": True, "errors": [], "created": False}

    def held_hub_id(self, payload: Mapping[str, Any]) -> str | None:
        return payload.get(self.external_id_field) or super().held_hub_id(payload)

    def written_attributes(self, upsert: Upsert) -> Mapping[str, Any]:
        object_type = self._object(upsert.object_type)
        return mapping.to_canonical(object_type, mapping.to_salesforce(object_type, upsert.fields))

    def close(self) -> None:
        self.client.close()


def _batch(result: Any) -> tuple[list[Mapping[str, Any]], str | None]:
    """The records and nextRecordsUrl of a query answer, checking its shape."""
    if not isinstance(result, dict) or not isinstance(result.get("records"), list):
        raise MalformedResponse(f"query answered an unexpected shape: {str(result)[:200]}")
    next_url = None if result.get("done", True) else result.get("nextRecordsUrl")
    return result["records"], next_url


def _write_result(hub_id: str, answer: Mapping[str, Any]) -> WriteResult:
    if answer.get("success"):
        return WriteResult(hub_id=hub_id, ok=True, external_id=answer.get("id"), created=bool(answer.get("created")))
    errors = [e for e in answer.get("errors") or [] if isinstance(e, dict)]
    codes = [e.get("statusCode") or e.get("errorCode") or "" for e in errors]
    text = "; ".join(f"{code}: {e.get('message', '')}" for code, e in zip(codes, errors, strict=True))
    return WriteResult(hub_id=hub_id, ok=False, external_id=answer.get("id"), error=text or "upsert failed",
                       retryable=bool(codes) and all(c in RETRYABLE_RECORD_ERRORS for c in codes),
                       details={"errors": errors})
