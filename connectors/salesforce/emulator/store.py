"""The emulator's org: records per object, the clock, new ids, edits, soft deletes, ext-id upserts and updates."""

from __future__ import annotations

import bisect
import copy
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from canonical.demo import generate
from canonical.demo.platforms import SF_PREFIX, salesforce_checksum
from canonical.demo.schedule import add_months
from connectors.salesforce.mapping import FIELDS as ORG_SCHEMA
from connectors.salesforce.timestamps import parse_sf_datetime as parse_time

EXTERNAL_ID_FIELDS = ("Hub_Id__c",)
SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp")
#: Fields the API computes: writing them is INVALID_FIELD_FOR_INSERT_UPDATE.
READ_ONLY = {*SYSTEM_FIELDS, "IsWon", "IsClosed", "ContractNumber", "EndDate"}
REQUIRED_ON_CREATE = {"Account": ("Name",), "Opportunity": ("Name", "StageName", "CloseDate"),
                      "Contract": ("AccountId", "StartDate")}
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: A datetime as ``sf_time`` writes it: one width, one offset, so such texts sort as the instants they name.
SF_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000")


class ApiError(Exception):
    """An error answer: ``status`` and the array body ``[{"message","errorCode","fields"?}]``."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def body(self) -> list[dict[str, Any]]:
        error: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            error["fields"] = self.fields
        return [error]


def sf_time(value: datetime) -> str:
    """Salesforce's datetime format: ``2026-01-05T10:11:12.000+0000`` (UTC)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class Order:
    """A table's records in the order of an ORDER BY of some of their fields, all ascending, as SOQL sorts them:
    a sorted list of keys, each the record's sort keys (``(0, "")`` for an empty field, ``(1, value)`` else; flat),
    then its place in the table (records tied on every field keep the table's order, as the stable sorts of a
    query keep them) and its Id. Kept up with every change to the table (``move``): a delta query reads its
    records off the order instead of testing and sorting every record of the table for each poll.

    A record that changes gets a new key; its old one stays in the list, stale (``live`` tells), until stale keys
    outnumber live ones and are dropped all at once: taking a key out of the middle of 100,000 moves the keys
    after it (~30 us an upsert), while an edited record's new key goes at the end (its stamp is the latest).
    ``odd`` counts the keys, stale ones too, whose leading field is set but not a datetime as ``sf_time`` writes
    it: while none is, the keys are in the order of the instants they name. Sorting raises TypeError for values
    that do not compare."""

    def __init__(self, fields: tuple[str, ...], table: Table) -> None:
        self.fields = fields
        self._keys_of: dict[str, tuple[Any, ...]] = {}  # Id -> its live key
        for record_id, record in table.items():
            self._keys_of[record_id] = self._key(record_id, record, table.place(record_id))
        self.keys = sorted(self._keys_of.values())
        self.odd = sum(map(self._odd, self.keys))

    def _key(self, record_id: str, record: dict[str, Any], place: int) -> tuple[Any, ...]:
        values = [record.get(field) for field in self.fields]
        return (*(part for value in values for part in ((0, "") if value is None else (1, value))), place, record_id)

    @staticmethod
    def _odd(key: tuple[Any, ...]) -> bool:
        return key[0] == 1 and not (isinstance(key[1], str) and SF_TIME.fullmatch(key[1]))

    def live(self, key: tuple[Any, ...]) -> bool:
        """Whether a key of the list is its record's key now (not one it had)."""
        return self._keys_of.get(key[-1]) is key

    def move(self, record_id: str, record: dict[str, Any] | None, place: int) -> None:
        """Give the record its key for its fields now (None: it left the table), its old key left stale."""
        old = self._keys_of.pop(record_id, None)
        key = None if record is None else self._key(record_id, record, place)
        if old is not None and key == old:
            self._keys_of[record_id] = old
            return
        if key is not None:
            bisect.insort(self.keys, key)
            self._keys_of[record_id] = key
            self.odd += self._odd(key)
        if len(self.keys) > 2 * len(self._keys_of):
            self.keys = [kept for kept in self.keys if self.live(kept)]
            self.odd = sum(map(self._odd, self.keys))


class Table(dict[str, dict[str, Any]]):
    """One object's records, ``Id -> record``, as the store always held them, plus what keeps the emulator fast at
    100,000 records of an object: an index by external-id value, the set of fields its records have had (since it
    was last cleared) and the orders delta queries were ordered by (``order``). All follow every change made to the
    table itself (set, delete, pop, clear, update); a record edited in place must be reported with
    ``changed(Id)``, as the store's own edits do."""

    def __init__(self, records: Mapping[str, dict[str, Any]] | Iterable[tuple[str, dict[str, Any]]] = ()) -> None:
        super().__init__()
        self.columns: set[str] = set()
        self._by_value: dict[tuple[str, str], dict[str, None]] = {}  # (field, value) -> Ids, in indexing order
        self._indexed: dict[str, list[tuple[str, str]]] = {}  # Id -> its (field, value)s in the index
        self._places: dict[str, int] = {}  # Id -> its place in the dict's order (later places are larger)
        self._next_place = 0
        self._orders: dict[tuple[str, ...], Order] = {}  # ORDER BY fields -> the records in that order
        self.update(records)

    def __setitem__(self, record_id: str, record: dict[str, Any]) -> None:
        if record_id not in self:
            self._places[record_id] = self._next_place
            self._next_place += 1
        super().__setitem__(record_id, record)
        self.changed(record_id)

    def __delitem__(self, record_id: str) -> None:
        super().__delitem__(record_id)
        self._unindex(record_id)
        self._places.pop(record_id)
        self._reorder(record_id, None)

    def pop(self, record_id: str, *default: Any) -> Any:
        if record_id not in self:
            if default:
                return default[0]
            raise KeyError(record_id)
        record = self[record_id]
        del self[record_id]
        return record

    def popitem(self) -> tuple[str, dict[str, Any]]:
        record_id = next(reversed(self))
        return record_id, self.pop(record_id)

    def clear(self) -> None:
        super().clear()
        self.columns.clear()
        self._by_value.clear()
        self._indexed.clear()
        self._places.clear()
        self._orders.clear()

    def update(self, records: Any = (), /, **more: dict[str, Any]) -> None:
        for record_id, record in dict(records, **more).items():
            self[record_id] = record

    def setdefault(self, record_id: str, default: Any = None) -> Any:
        if record_id not in self:
            self[record_id] = default
        return self[record_id]

    def __ior__(self, records: Any) -> Table:
        self.update(records)
        return self

    def changed(self, record_id: str) -> None:
        """Re-read a record edited in place: its external ids, its fields and its places in the orders."""
        self._unindex(record_id)
        record = self[record_id]
        self.columns.update(record)
        keys = [(f, record[f]) for f in EXTERNAL_ID_FIELDS if isinstance(record.get(f), str)]
        for key in keys:
            self._by_value.setdefault(key, {})[record_id] = None
        self._indexed[record_id] = keys
        self._reorder(record_id, record)

    def place(self, record_id: str) -> int:
        """The record's place in the table's order (``values()``'s): a number larger than those before it."""
        return self._places[record_id]

    def order(self, fields: tuple[str, ...]) -> Order | None:
        """The records in the order of these fields, made once and then kept up with every change; None when
        their values do not compare (a query sorting them answers as it did)."""
        if fields not in self._orders:
            try:
                self._orders[fields] = Order(fields, self)
            except TypeError:
                return None
        return self._orders[fields]

    def _reorder(self, record_id: str, record: dict[str, Any] | None) -> None:
        """Move the record in every order (None: it left the table). An order whose values stop comparing is
        dropped (made again when a query asks for it)."""
        place = 0 if record is None else self._places[record_id]
        for fields, order in list(self._orders.items()):
            try:
                order.move(record_id, record, place)
            except TypeError:
                del self._orders[fields]

    def __getstate__(self) -> dict[str, Any]:
        """A copy (``allOrNone``'s staging tables) has no orders until a query asks for one: copied, they would be
        moved key by key as the copy is filled."""
        return {**self.__dict__, "_orders": {}}

    def holding(self, field: str, value: str) -> list[dict[str, Any]]:
        """The records (live or in the recycle bin) whose external-id ``field`` is ``value``."""
        if not isinstance(value, str):
            return []
        return [self[i] for i in self._by_value.get((field, value), ()) if self[i].get(field) == value]

    def _unindex(self, record_id: str) -> None:
        for key in self._indexed.pop(record_id, ()):
            ids = self._by_value[key]
            del ids[record_id]
            if not ids:
                del self._by_value[key]


@dataclass(frozen=True)
class Deletion:
    object_type: str
    id: str
    deleted_at: datetime


class Store:
    """In-memory records: ``records[object_type][Id] -> dict`` (the API's field names, no ``attributes``)."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.records: dict[str, Table] = {}
        self.deleted_log: list[Deletion] = []
        self.purged_until: datetime | None = None
        self.lock = threading.RLock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._last = datetime(2000, 1, 1, tzinfo=UTC)
        self._serial = 62**5

    # -- time and ids -------------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The org's clock: whole seconds, never going backwards."""
        current = self._clock().astimezone(UTC).replace(microsecond=0)
        self._last = max(self._last, current)
        return self._last

    def new_id(self, object_type: str) -> str:
        with self.lock:
            while True:
                self._serial += 1
                n, digits = self._serial, ""
                while n:
                    n, d = divmod(n, 62)
                    digits = BASE62[d] + digits
                record_id = salesforce_checksum(f"{SF_PREFIX[object_type]}5g0000{digits.rjust(6, '0')}")
                if record_id not in self.records.get(object_type, {}):
                    return record_id

    # -- seeding --------------------------------------------------------------------------------------------
    def seed(self, seed: int, clients: int) -> None:
        data = generate(seed=seed, clients=clients)
        copies = [s for g in (*data.clients, *data.engagements, *data.milestones, *data.contracts) for s in g.sources]
        copies += [s for event in data.revenue_events for s in event.sources]
        for source in copies:
            if source.system != "salesforce":
                continue
            record = {k: copy.deepcopy(v) for k, v in source.payload.items() if k != "attributes"}
            record.setdefault("LastModifiedDate", record["SystemModstamp"])
            record.setdefault("IsDeleted", False)
            record.setdefault("Hub_Id__c", None)
            self.records.setdefault(source.object_type, Table())[source.external_id] = record
            self._last = max(self._last, parse_time(record["SystemModstamp"]))

    # -- reading --------------------------------------------------------------------------------------------
    def objects(self, object_type: str) -> Table:
        try:
            return self.records[object_type]
        except KeyError:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist") from None

    def fields(self, object_type: str) -> set[str]:
        """The object's columns: the org's schema (the fields the hub's managed package installs), the
        system fields, the ext id, and every field its records have had."""
        columns = {*SYSTEM_FIELDS, *EXTERNAL_ID_FIELDS, *ORG_SCHEMA.get(object_type, ())}
        if object_type in self.records:
            columns |= self.records[object_type].columns
        return columns

    # -- writing --------------------------------------------------------------------------------------------
    def _stamp(self, record: dict[str, Any], at: datetime) -> None:
        record["SystemModstamp"] = record["LastModifiedDate"] = sf_time(at)

    def touch(self, object_type: str, record_id: str, **changes: Any) -> dict[str, Any]:
        """Edit a record as a user would in Salesforce: fields change, SystemModstamp moves to now."""
        with self.lock:
            record = self._live(object_type, record_id)
            record.update(changes)
            _derive(object_type, record, set(changes))
            self._stamp(record, self.now())
            self.records[object_type].changed(record_id)
            return record

    def delete(self, object_type: str, record_id: str) -> dict[str, Any]:
        """Soft delete to the recycle bin: IsDeleted, a new SystemModstamp and an entry in the deleted log."""
        with self.lock:
            record = self._live(object_type, record_id)
            at = self.now()
            record["IsDeleted"] = True
            self._stamp(record, at)
            self.records[object_type].changed(record_id)
            self.deleted_log.append(Deletion(object_type, record_id, at))
            return record

    def purge_recycle_bin(self) -> None:
        """Empty the recycle bin: deletions so far vanish from the deleted resource (earliestDateAvailable moves)."""
        with self.lock:
            self.purged_until = self.now()
            self.deleted_log.clear()

    def _live(self, object_type: str, record_id: str) -> dict[str, Any]:
        record = self.objects(object_type).get(record_id)
        if record is None or record["IsDeleted"]:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return record

    def upsert(self, records: Table, object_type: str, field: str, value: str, body: Mapping[str, Any],
               at: datetime) -> tuple[str, bool]:
        """Upsert into ``records`` (the object's table, or a staging copy of it): (Id, created)."""
        if field not in EXTERNAL_ID_FIELDS:
            raise ApiError(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field}")
        values = {k: v for k, v in self._writable(object_type, body).items() if k != field}
        matches = [r for r in records.holding(field, value) if not r["IsDeleted"]]
        if len(matches) > 1:
            raise ApiError(300, "MULTIPLE_CHOICES", f"More than one record found for external id field {field}")
        if matches:
            record, created = matches[0], False
        else:
            missing = [name for name in REQUIRED_ON_CREATE.get(object_type, ()) if values.get(name) in (None, "")]
            if missing:
                raise ApiError(400, "REQUIRED_FIELD_MISSING",
                               f"Required fields are missing: [{', '.join(missing)}]", missing)
            record_id = self.new_id(object_type)
            while record_id in records:
                record_id = self.new_id(object_type)
            record = {"Id": record_id, "IsDeleted": False, "CreatedDate": sf_time(at), field: value}
            created = True
        record.update(values)
        _derive(object_type, record, set(values))
        self._stamp(record, at)
        if created:  # into the table whole: its orders place it once, by its stamp
            records[record["Id"]] = record
        else:
            records.changed(record["Id"])
        return record["Id"], created

    def update(self, records: Table, object_type: str, record_id: str, body: Mapping[str, Any],
               at: datetime) -> str:
        """Update the record ``record_id`` of ``records`` (the object's table, or a staging copy of it): its Id.

        A record in the recycle bin is ENTITY_IS_DELETED, an unknown one NOT_FOUND (both 404), and an
        external id another live record holds is DUPLICATE_VALUE, as in Salesforce."""
        record = records.get(record_id)
        if record is None and len(record_id) == 15:  # the case-sensitive 15-character form of the Id
            record = next((r for r in records.values() if r["Id"][:15] == record_id), None)
        if record is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if record["IsDeleted"]:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        values = self._writable(object_type, body)
        for field in EXTERNAL_ID_FIELDS:
            if values.get(field) in (None, ""):
                continue
            holder = next((r for r in records.holding(field, values[field]) if r is not record
                           and not r["IsDeleted"]), None)
            if holder is not None:
                raise ApiError(400, "DUPLICATE_VALUE", f"duplicate value found: {field} duplicates value on record "
                               f"with id: {holder['Id']}", [field])
        record.update(values)
        _derive(object_type, record, set(values))
        self._stamp(record, at)
        records.changed(record["Id"])
        return record["Id"]

    def _writable(self, object_type: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """The fields of a create/update body, checked: INVALID_FIELD for an unknown field,
        INVALID_FIELD_FOR_INSERT_UPDATE for one the API computes."""
        columns = self.fields(object_type)
        unknown = [name for name in body if name not in columns and name != "attributes"]
        if unknown:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {object_type}")
        locked = sorted(name for name in body if name in READ_ONLY)
        if locked:
            raise ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                           f"Unable to create/update fields: {', '.join(locked)}. Please check the security "
                           "settings of this field and verify that it is read/write for your profile or "
                           "permission set.", locked)
        return {k: v for k, v in body.items() if k != "attributes"}


def _derive(object_type: str, record: dict[str, Any], changed: set[str]) -> None:
    """Formula and derived fields Salesforce computes on save (only when their inputs changed)."""
    if object_type == "Opportunity" and "StageName" in changed:
        stage = record["StageName"] or ""
        record["IsWon"] = stage == "Closed Won"
        record["IsClosed"] = stage.startswith("Closed")
    if object_type == "Contract" and changed & {"StartDate", "ContractTerm"} and record.get("StartDate") \
            and record.get("ContractTerm"):
        start = date.fromisoformat(record["StartDate"])
        record["EndDate"] = (add_months(start, int(record["ContractTerm"])) - timedelta(days=1)).isoformat()

