"""The emulator's API endpoints: SuiteQL query service and the record service (read, eid upsert, create)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import quote, unquote

from connectors.netsuite.emulator import suiteql
from connectors.netsuite.emulator.responses import Problem, Response
from connectors.netsuite.emulator.seed import (
    COLUMNS,
    DERIVED,
    NKEY_SPAN,
    TABLES,
    address_rows,
    deleted_row,
    table_columns,
    table_row,
)
from connectors.netsuite.emulator.table import Table


class Emulator(Protocol):
    """What the handlers need of the emulator (app.Emulator): its records, deletion log, SuiteQL results
    and edits."""

    store: dict[str, Table]
    deleted: list[Any]
    timezone: Any
    results: suiteql.Results
    rows: dict[str, tuple[Any, Any, list[dict[str, Any]]]]  # table -> (version, columns, its Rows)

    def create(self, record_type: str, fields: dict[str, Any], *args: Any, **kwargs: Any) -> Any: ...

    def touch(self, record_type: str, record_id: str, **changes: Any) -> Any: ...

    def delete(self, record_type: str, record_id: str) -> Any: ...

SUITEQL_PATH = "/services/rest/query/v1/suiteql"
RECORD_PREFIX = "/services/rest/record/v1/"
MAX_LIMIT = 1000
MAX_OFFSET = 100_000
READ_ONLY = {"id", "lastModifiedDate", "links", "externalId"}


def _int_param(query: dict[str, str], name: str, default: int) -> int:
    try:
        return int(query.get(name, default))
    except ValueError:
        raise Problem(400, "INVALID_PARAMETER", f"Invalid value for the '{name}' query parameter.",
                      errorQueryParam=name) from None


class Rows(list[dict[str, Any]]):
    """One table's SuiteQL rows as built for one version of its records, with the columns a query may name in
    them (``fields``; None when the table has no rows to tell) and the joins made from them: a join is held by
    its FROM table's rows, so it goes when they are built anew, and with the rows of the tables it joined, so it
    is made anew when one of those is. The orders of the rows a query was ordered by, and the kinds of values
    their columns hold, are caught up with a change to a few records (``following``) rather than made again."""

    def __init__(self, rows: list[dict[str, Any]], fields: frozenset[str] | None,
                 places: dict[tuple[str, str], int] | None = None) -> None:
        super().__init__(rows)
        self.fields = fields
        #: (record type, id) -> the place of the record's row (tables of a row per record)
        self.places = places
        #: (FROM table, joins) -> (the rows of the tables joined, the joined rows)
        self.joins: dict[tuple[suiteql.Source, tuple[suiteql.Join, ...]],
                         tuple[tuple[Rows, ...], list[tuple[suiteql.Row, ...]]]] = {}
        #: column -> the rows indexed by it, for joins (made once for these rows)
        self.indexes: dict[str, tuple[Any, dict[Any, list[Any]]]] = {}
        #: ORDER BY columns -> these rows in that order (None: their values do not all compare)
        self.orders: dict[tuple[str, ...], suiteql.Ordered | None] = {}
        #: column -> the types of its values in these rows (after ``following``, maybe some no row holds now)
        self.types: dict[str, frozenset[type]] = {}

    def index(self, column: str) -> tuple[Any, dict[Any, list[Any]]]:
        if column not in self.indexes:
            self.indexes[column] = suiteql.index_rows(self, column)
        return self.indexes[column]

    def kinds(self, column: str) -> frozenset[type]:
        if column not in self.types:
            self.types[column] = frozenset(type(v) for row in self if (v := row.get(column)) is not None)
        return self.types[column]

    def order(self, columns: tuple[str, ...]) -> suiteql.Ordered | None:
        if columns not in self.orders:
            self.orders[columns] = suiteql.Ordered.of(columns, self, self.kinds)
        return self.orders[columns]

    def following(self, rows: list[dict[str, Any]], fields: frozenset[str] | None,
                  places: dict[tuple[str, str], int], changed: list[int]) -> Rows:
        """The Rows of ``rows``, these rows with those at the places ``changed`` made anew or added, with the kinds
        and orders made of these caught up with the rows changed."""
        after = Rows(rows, fields, places)
        for column, kinds in self.types.items():
            after.types[column] = kinds.union(type(v) for at in changed if (v := rows[at].get(column)) is not None)
        for columns, order in self.orders.items():
            if order is not None and all(suiteql.family(after.kinds(c)) is not object for c in columns):
                caught_up = order.caught_up(self, after, changed)
                if caught_up is not None:  # else made anew when a query asks for it
                    after.orders[columns] = caught_up
        return after


class Addresses(Rows):
    """EntityAddress joined by ``nkey``, its rows made only for the keys looked up: an address's nkey names its
    owner and its place in the owner's address book (see seed.nkey), so a delta query joining a page of
    customers reads their addresses, not every entity's."""

    def __init__(self, emu: Emulator, table: str) -> None:
        super().__init__([], COLUMNS[table])
        self.emu, self.table = emu, table

    def index(self, column: str) -> tuple[Any, dict[Any, list[Any]]]:
        if column != "nkey":
            raise ValueError("EntityAddress is looked up by nkey only")
        return self, {}

    def get(self, key: Any) -> dict[str, Any] | None:
        if not isinstance(key, int):
            return None
        owner, place = divmod(key - 1, NKEY_SPAN)
        for record_type in DERIVED[self.table]:
            record = self.emu.store.get(record_type, {}).get(str(owner))
            if record is not None:
                rows = address_rows(record)
                return rows[place] if place < len(rows) else None
        return None


def _types(table: str) -> list[str]:
    """The record types a SuiteQL table's rows come from."""
    types = [t for t, name in TABLES.items() if name == table] or list(DERIVED.get(table, ()))
    if not types and table != "deletedrecord":
        raise suiteql.search_error(f"Record '{table}' was not found.")
    return types


def _known(emu: Emulator, table: str, rows: list[dict[str, Any]]) -> frozenset[str] | None:
    """The columns a query may name in a table: a derived table's own, else those its records give it (None
    for a table with no rows, where nothing can be told)."""
    if table in DERIVED:
        return COLUMNS[table]
    if not rows:
        return None
    if table == "deletedrecord":
        return frozenset().union(*rows)
    return frozenset().union(*(table_columns(t, emu.store[t]) for t in _types(table) if emu.store.get(t)))


def _rows(emu: Emulator, table: str, columns: set[str] | None) -> Rows:
    """A table's rows, built once per version of its records (and the columns asked for): a pull asks a page at
    a time from the last stamp it read, a new query each time, over the same rows. Built anew for more columns,
    they keep those the rows held had, so two queries taking turns do not rebuild them for each other. After a
    change, the rows held are copied with the changed records' rows made again (a table of 100,000 customers
    written to while it is read is not rebuilt whole for every page)."""
    version = _version(emu, table)
    held = emu.rows.get(table)
    if held is not None and held[0] == version and (held[1] is None or (columns is not None and columns <= held[1])):
        return held[2]  # type: ignore[return-value]  # always a Rows: only this function fills emu.rows
    if held is not None and held[1] is not None and columns is not None:
        columns = columns | held[1]
    if table == "deletedrecord":
        built = [deleted_row(*entry) for entry in emu.deleted]
        rows = Rows(built, _known(emu, table, built))
    elif table in DERIVED:
        columns = None  # a few columns: built whole
        built = [row for t in _types(table) for record in emu.store.get(t, {}).values() for row in address_rows(record)]
        rows = Rows(built, _known(emu, table, built))
    else:
        same = held is not None and held[1] == (None if columns is None else set(columns))
        rows = (_caught_up(emu, table, held, columns) if same else None) or _built(emu, table, columns)
    emu.rows[table] = (version, None if columns is None else set(columns), rows)
    return rows


def _built(emu: Emulator, table: str, columns: set[str] | None) -> Rows:
    built, places = [], {}
    for t in _types(table):
        for record_id, record in emu.store.get(t, {}).items():
            places[(t, record_id)] = len(built)
            built.append(table_row(t, record, columns))
    return Rows(built, _known(emu, table, built), places)


def _caught_up(emu: Emulator, table: str, held: tuple[Any, Any, Any], columns: set[str] | None) -> Rows | None:
    """The rows held, with the rows of the records changed since made again; None when that cannot be told (a
    record deleted, a log not reaching back, a table that is not a Table)."""
    rows: Rows = held[2]
    if rows.places is None:
        return None
    changes = []
    for t, then in zip(_types(table), held[0], strict=True):
        records = emu.store.get(t)
        changed = records.changed_since(then) if isinstance(records, Table) and then is not None else None
        if changed is None or any(record_id not in records for record_id in changed):
            return None
        changes += [(t, record_id) for record_id in changed]
    built, places = list(rows), dict(rows.places)
    for t, record_id in changes:
        row = table_row(t, emu.store[t][record_id], columns)
        if (t, record_id) in places:
            built[places[(t, record_id)]] = row
        else:
            places[(t, record_id)] = len(built)
            built.append(row)
    return rows.following(built, _known(emu, table, built), places, [places[change] for change in changes])


def _version(emu: Emulator, table: str) -> tuple[Any, ...]:
    """What a SuiteQL table's rows are computed from: its record types' versions, or the deletion log."""
    if table == "deletedrecord":
        return len(emu.deleted), emu.deleted[-1] if emu.deleted else None
    return tuple(emu.store[t].version if t in emu.store else None for t in _types(table))


def _joined(query: suiteql.Query, tables: dict[str, Rows]) -> list[tuple[suiteql.Row, ...]]:
    """The query's join of its tables, made once for the rows of each (so once per version of every table it
    reads): the pages of a pull are new query texts over the same join."""
    first = tables[query.table]
    inputs = tuple(tables[step.source.table] for step in query.joins)
    shape = (query.source, query.joins)
    held = first.joins.get(shape)
    if held is None or any(now is not then for now, then in zip(inputs, held[0], strict=True)):
        held = (inputs, suiteql.join(query, tables))
        first.joins[shape] = held
    return held[1]


def _evaluate(emu: Emulator, query: suiteql.Query) -> Sequence[dict[str, str]]:
    by_key = {s.source.table for s in query.joins if s.source.table in DERIVED and s.own.column == "nkey"
              and s.source.table != query.table and not any(o.source.table == s.source.table for o in query.joins
                                                            if o is not s)}
    tables = {table: Addresses(emu, table) if table in by_key else _rows(emu, table, columns)
              for table, columns in query.referenced().items()}
    suiteql.check(query, {table: rows.fields for table, rows in tables.items()})
    # Ordered by the FROM table's columns: read off its rows kept in that order (each page of a keyset paging is a
    # new query text, evaluated anew: filtering, joining and sorting the table for each made a paging O(N^2)).
    first = tables[query.table]
    try:
        found = suiteql.window(query, tables, first.order, first.kinds, _index_of, emu.timezone)
    except TypeError:  # datetimes with and without a time zone: left to run, to answer as it does
        found = None
    if found is not None:
        return found
    if not query.joins:
        return suiteql.run(query, tables[query.table], emu.timezone)
    if not by_key and not query.own_where():
        return suiteql.run(query, _joined(query, tables), emu.timezone)
    # A delta query: its window of the FROM table joined (the joined tables' indexes are kept with their rows).
    narrowed = {**tables, query.table: suiteql.pushdown(query, tables[query.table])}
    return suiteql.run(query, suiteql.join(query, narrowed, indexed=_index_of), emu.timezone)


def _index_of(rows: Sequence[Any], column: str) -> tuple[Any, dict[Any, list[Any]]]:
    return rows.index(column) if isinstance(rows, Rows) else suiteql.index_rows(rows, column)


def run_suiteql(emu: Emulator, base: str, query: dict[str, str], headers: dict[str, str], body: Any) -> Response:
    """``POST /query/v1/suiteql?limit&offset`` with ``Prefer: transient`` and ``{"q": ...}``."""
    if "transient" not in headers.get("prefer", "").lower():
        raise Problem(400, "INVALID_PARAMETER", "The request header 'Prefer' must be set to 'transient'.",
                      errorHeader="Prefer")
    limit, offset = _int_param(query, "limit", MAX_LIMIT), _int_param(query, "offset", 0)
    if not 1 <= limit <= MAX_LIMIT:
        raise Problem(400, "INVALID_PARAMETER", f"Invalid value for the 'limit' query parameter: {limit}. "
                      f"The value must be between 1 and {MAX_LIMIT}.", errorQueryParam="limit")
    if offset < 0 or offset >= MAX_OFFSET:
        raise Problem(400, "INVALID_PARAMETER", f"Invalid value for the 'offset' query parameter: {offset}. "
                      f"The value must be between 0 and {MAX_OFFSET - 1}.", errorQueryParam="offset")
    if not isinstance(body, dict) or not isinstance(body.get("q"), str):
        raise Problem(400, "INVALID_CONTENT", "The request body must be a JSON object with a 'q' string.")
    parsed = suiteql.parse(body["q"], emu.timezone)
    version = tuple(_version(emu, table) for table in parsed.referenced())  # every table it reads, joined ones too
    items = emu.results.get(body["q"], version, lambda: _evaluate(emu, parsed))
    total = min(len(items), MAX_OFFSET)
    page = items[offset:offset + limit]
    has_more = offset + len(page) < total
    if not has_more:
        emu.results.forget(body["q"])
    url = f"{base}{SUITEQL_PATH}"
    links = [{"rel": "self", "href": f"{url}?limit={limit}&offset={offset}"},
             {"rel": "first", "href": f"{url}?limit={limit}&offset=0"}]
    if offset > 0:
        links.append({"rel": "previous", "href": f"{url}?limit={limit}&offset={max(offset - limit, 0)}"})
    if has_more:
        links.append({"rel": "next", "href": f"{url}?limit={limit}&offset={offset + limit}"})
    last = max((total - 1) // limit * limit, 0)
    links.append({"rel": "last", "href": f"{url}?limit={limit}&offset={last}"})
    return Response(200, {"links": links, "count": len(page), "hasMore": has_more, "offset": offset,
                          "totalResults": total, "items": [{"links": [], **item} for item in page]})


def _not_found() -> Problem:
    return Problem(404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid record instance ID.")


def _records(emu: Emulator, record_type: str) -> Table:
    if record_type not in emu.store:
        raise Problem(404, "NONEXISTENT_ID", f"Record type '{record_type}' does not exist.")
    return emu.store[record_type]


def find(emu: Emulator, record_type: str, key: str) -> str | None:
    """The internal id for ``key`` (an internal id or ``eid:<external id>``), if such a record exists."""
    records = _records(emu, record_type)
    if key.startswith("eid:"):
        return next(iter(records.holding(key[4:])), None)
    return key if key in records else None


def _location(base: str, record_type: str, record_id: str) -> Response:
    return Response(204, headers={"Location": f"{base}{RECORD_PREFIX}{record_type}/{record_id}"})


def _fields(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Problem(400, "INVALID_CONTENT", "The request body must be a JSON object.")
    return {k: v for k, v in body.items() if k not in READ_ONLY}


def _unique_external_id(records: Table, external_id: Any, record_id: str | None = None) -> None:
    if isinstance(external_id, str) and any(rid != record_id for rid in records.holding(external_id)):
        raise Problem(400, "USER_ERROR", "A record with the same external ID already exists.",
                      errorPath="externalId")


def record(emu: Emulator, base: str, method: str, path: str, body: Any) -> Response:
    """``/record/v1/<type>[/<id>|/eid:<external id>]``: GET, PUT (eid upsert), POST, PATCH, DELETE."""
    parts = [unquote(p) for p in path[len(RECORD_PREFIX):].split("/") if p]
    if len(parts) == 1 and method == "POST":
        fields = _fields(body)
        records = _records(emu, parts[0])
        external_id = body.get("externalId")
        _unique_external_id(records, external_id)
        return _location(base, parts[0], emu.create(parts[0], fields, external_id=external_id))
    if len(parts) != 2:
        raise Problem(404, "NONEXISTENT_ID", "The requested resource does not exist.", urlPath=path)
    record_type, key = parts
    record_id = find(emu, record_type, key)
    if method == "GET":
        if record_id is None:
            raise _not_found()
        self_href = f"{base}{RECORD_PREFIX}{record_type}/{quote(record_id)}"
        return Response(200, {"links": [{"rel": "self", "href": self_href}], **emu.store[record_type][record_id]})
    if method == "PUT":
        if not key.startswith("eid:"):
            raise Problem(405, "INVALID_PARAMETER", "PUT is supported only for upsert by external ID (eid:).")
        fields = _fields(body)
        if record_id is None:
            record_id = emu.create(record_type, fields, external_id=key[4:])
        else:
            emu.touch(record_type, record_id, **fields)
        return _location(base, record_type, record_id)
    if record_id is None:
        raise _not_found()
    if method == "PATCH":
        fields = _fields(body)
        if "externalId" in body:  # an update may give the record an external id (or change it)
            _unique_external_id(emu.store[record_type], body["externalId"], record_id)
            fields["externalId"] = body["externalId"]
        emu.touch(record_type, record_id, **fields)
        return _location(base, record_type, record_id)
    if method == "DELETE":
        emu.delete(record_type, record_id)
        return Response(204)
    raise Problem(405, "INVALID_PARAMETER", f"Method {method} is not allowed on this resource.")


