"""Database helpers the ORM lacks."""

from __future__ import annotations

import datetime as dt
import json
import operator
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, router
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone


def timestamps_read_natively(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Read ``timestamptz`` columns with the standard library's ISO parser (in C) on a new UTC connection.

    Django loads them with a subclass of psycopg's pure-Python loader (to set their time zone), which parses each
    value with regular expressions: 4 us a value against 1 us, and a hub reads millions of them (every source
    record, delivery and change has several). The values are the same: PostgreSQL writes them in ISO form in the
    session's zone, UTC; one the parser does not take (infinity, a date BC, a year past 9999) is left to Django's."""
    if connection.vendor != "postgresql" or connection.timezone != dt.UTC:
        return
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class IsoTimestamptzLoader(BaseTzLoader):
        timezone = dt.UTC  # as Django's own: it keeps a loader whose zone is the connection's

        def load(self, data: Any) -> datetime:
            try:
                return datetime.fromisoformat(bytes(data).decode()).astimezone(dt.UTC)
            except ValueError:
                return super().load(data)

    connection.connection.adapters.register_loader("timestamptz", IsoTimestamptzLoader)


def rows_update(model: type[models.Model], rows: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of many rows in one statement: what ``bulk_update`` does, as
    ``UPDATE ... FROM <the rows as one parameter>`` (see ``_source``).

    ``bulk_update`` builds a ``CASE WHEN pk = ... THEN ...`` per row and field, whose compilation costs more than
    the update itself on pages of thousands of rows.
    Like ``bulk_update``, it sends no signals and sets no ``auto_now`` field. Returns the number of rows updated."""
    if not rows:
        return 0
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    pk = meta.pk
    values = [[getattr(row, field.attname) for row in rows] for field in columns]
    key = [pk.get_db_prep_value(row.pk, connection) for row in rows]
    params, source, selected = _source(connection, [pk, *columns], [key, *values])
    assignments = ", ".join(f"{quote(field.column)} = {value}"
                            for field, value in zip(columns, selected[1:], strict=True))
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 (names from the model only)
           f"FROM {source} WHERE t.{quote(pk.column)} = {selected[0]}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _source(connection: Any, fields: Sequence[models.Field], values: Sequence[Sequence[Any]]
            ) -> tuple[list[Any], str, list[str]]:
    """Rows given column by column as a row source for one statement: its parameters, the ``FROM`` item
    (aliased ``v``) and each column's expression over it.

    The rows travel as one JSON document read by ``json_to_recordset``: serialised in C and parsed by the
    server in one pass, where one array parameter per column has the driver adapt every value in turn (the most
    of a bulk write's own time on pages of thousands of rows). Values JSON cannot carry as the database would
    read them (an interval, bytes, an integer beyond 64 bits) travel as arrays instead."""
    try:
        document = _document(connection, fields, values)
    except (TypeError, orjson.JSONEncodeError):
        params, arrays, selected = _arrays(connection, fields, values)
        names = ", ".join(f"c{i}" for i in range(len(fields)))
        return params, f"unnest({', '.join(arrays)}) AS v({names})", selected
    types = [field.db_type(connection) for field in fields]
    # Read as the unconstrained type, then cast as the array path casts: a value too long for a varchar(n) is
    # cut to it by the explicit cast, where the recordset's input would refuse the whole statement.
    columns = ", ".join(f"c{i} {_TYPMOD.sub('', t)}" for i, t in enumerate(types))
    selected = [f"v.c{i}::{t}" if _TYPMOD.search(t) else f"v.c{i}" for i, t in enumerate(types)]
    return [document], f"json_to_recordset(%s::json) AS v({columns})", selected


_TYPMOD = re.compile(r"\(\d+(?:,\s*\d+)?\)")


def _document(connection: Any, fields: Sequence[models.Field], values: Sequence[Sequence[Any]]) -> str:
    """The rows as a JSON array of objects ``{"c0": ..., "c1": ...}``: a JSON column's value as the JSON it is (a
    top-level ``None`` is SQL NULL, as the field stores it; keys made strings, as ``json.dumps`` makes them), an
    array column's as an array, every other value as the field prepares it for saving."""
    columns = []
    for field, column in zip(fields, values, strict=True):
        if isinstance(field, models.JSONField) and field.encoder is not None:
            columns.append([None if v is None else orjson.Fragment(json.dumps(v, cls=field.encoder)) for v in column])
        elif isinstance(field, models.JSONField | ArrayField):
            columns.append(column)
        else:
            columns.append(_prepared(field, column, connection))
    names = [f"c{i}" for i in range(len(fields))]
    rows = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    return orjson.dumps(rows, default=_decimal, option=orjson.OPT_NON_STR_KEYS).decode()


_DJANGO_JSON = DjangoJSONEncoder()


def json_safe(value: Any) -> Any:
    """The value as it reads back once stored as JSON by a field encoding with DjangoJSONEncoder (dates, times,
    decimals and UUIDs as its strings; keys as strings): what ``json.loads(json.dumps(value, cls=...))`` gives,
    through orjson (a few times faster), or through json for what orjson does not carry (an integer past 64
    bits, say). A value neither can encode raises TypeError."""
    try:
        return orjson.loads(orjson.dumps(value, default=_DJANGO_JSON.default,
                                         option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS))
    except (TypeError, orjson.JSONEncodeError):
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def canonical_json(value: Any) -> bytes:
    """The value as canonical JSON (keys sorted, no spaces; dates, decimals and UUIDs as DjangoJSONEncoder writes
    them), for digests: through orjson, a few times faster than json, for every record of every page; through json
    for what orjson does not carry (an integer past 64 bits)."""
    try:
        return orjson.dumps(value, default=_DJANGO_JSON.default, option=orjson.OPT_SORT_KEYS
                            | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder).encode()


def _decimal(value: Any) -> str:
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)
    raise TypeError(f"{type(value).__name__} is not carried as JSON")


def _arrays(connection: Any, fields: Sequence[models.Field], values: Sequence[Sequence[Any]]
            ) -> tuple[list[list[Any]], list[str], list[str]]:
    """Each column's values as one array parameter for ``unnest(...) AS v(c0, c1, ...)``: the parameters, their
    typed placeholders, and each column's expression over ``v`` (an array column's values travel as array
    literals, an array of arrays having to be rectangular, and are cast back)."""
    params, arrays, selected = [], [], []
    for i, (field, column) in enumerate(zip(fields, values, strict=True)):
        if isinstance(field, ArrayField):
            params.append([_array_literal(v) for v in column])
            arrays.append("%s::text[]")
            selected.append(f"v.c{i}::{field.db_type(connection)}")
        else:
            params.append(_prepared(field, column, connection))
            arrays.append(f"%s::{field.db_type(connection)}[]")
            selected.append(f"v.c{i}")
    return params, arrays, selected


# Fields whose values of this exact type go to the database as they are (get_db_prep_save returns them
# unchanged): a page of thousands of rows is spared a few calls per value. Exact classes only: a subclass may
# prepare its values otherwise.
_AS_THEY_ARE: dict[type[models.Field], type] = {
    models.CharField: str, models.TextField: str, models.UUIDField: uuid.UUID, models.BooleanField: bool,
    models.IntegerField: int, models.BigIntegerField: int, models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int, models.SmallIntegerField: int, models.AutoField: int,
    models.BigAutoField: int, models.DateTimeField: datetime,
}


def _prepared(field: models.Field, column: Sequence[Any], connection: Any) -> list[Any]:
    """A column's values as the database takes them (``get_db_prep_save``, skipped where it changes nothing)."""
    prepare = field.get_db_prep_save
    native = _AS_THEY_ARE.get(type(field))
    if native is None:
        return [prepare(v, connection) for v in column]
    if native is datetime:  # a naive datetime is made aware (with a warning) by the field
        return [v if v is None or (type(v) is datetime and v.tzinfo is not None) else prepare(v, connection)
                for v in column]
    return [v if v is None or type(v) is native else prepare(v, connection) for v in column]


def _array_literal(values: Sequence[Any] | None) -> str | None:
    """A PostgreSQL array literal of text elements (``{"a","b"}``), for array columns sent inside an array."""
    if values is None:
        return None
    quoted = ('NULL' if v is None else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def columns_insert(model: type[models.Model], columns: Mapping[str, Sequence[Any]], *, ignore_conflicts: bool = False,
                   unique_fields: Sequence[str] = (), update_fields: Sequence[str] = (),
                   returning: Sequence[str] = ()) -> list[tuple]:
    """Insert rows given column by column (field name -> one value per row) in one statement:
    ``INSERT ... SELECT FROM <the rows as one parameter>`` (see ``_source``), the query text the same whatever
    the number of rows.

    Values are Python values, prepared as each field prepares them for saving. ``ignore_conflicts`` skips rows a
    unique constraint refuses; ``unique_fields`` with ``update_fields`` updates those rows instead (an upsert).
    Returns the ``returning`` fields of the rows inserted (or updated), in no particular order."""
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in columns]
    params, source, selected = _source(connection, fields, list(columns.values()))
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
           f"SELECT {', '.join(selected)} FROM {source}")
    if update_fields:
        targets = ", ".join(quote(meta.get_field(name).column) for name in unique_fields)
        updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}"
                            for c in (meta.get_field(name).column for name in update_fields))
        sql += f" ON CONFLICT ({targets}) DO UPDATE SET {updates}"
    elif ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(quote(meta.get_field(name).column) for name in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def rows_insert(model: type[models.Model], rows: Sequence[models.Model], *, ignore_conflicts: bool = False,
                unique_fields: Sequence[str] = (), update_fields: Sequence[str] = ()) -> set[Any]:
    """What ``bulk_create`` does (``auto_now`` fields set, values the database assigns read back onto the rows),
    as one ``INSERT ... SELECT`` (see ``columns_insert``): ``bulk_create`` compiles a placeholder per value, which costs
    more than the insert itself on pages of thousands of rows. Sends no signals. Returns the pks of the rows
    written (with ``ignore_conflicts``, those a unique constraint refused are not among them)."""
    if not rows:
        return set()
    meta = model._meta
    pk = meta.pk
    columns: dict[str, list[Any]] = {}
    numbered = pk.db_returning  # an AutoField: the database numbers the rows
    from_database: list[str] = [pk.name] if numbered else []
    for field in meta.concrete_fields:
        if field.primary_key and numbered:
            continue
        if type(field).pre_save is models.Field.pre_save:  # the attribute as it is: read in C, row after row
            values = list(map(operator.attrgetter(field.attname), rows))
        else:  # auto_now and the like set it
            values = [field.pre_save(row, True) for row in rows]
        defaults = [isinstance(v, DatabaseDefault) for v in values]
        if all(defaults):
            from_database.append(field.name)
        elif any(defaults):
            raise ValueError(f"{model.__name__}.{field.name}: the database's default for some rows only")
        else:
            columns[field.name] = values
    returned = columns_insert(model, columns, ignore_conflicts=ignore_conflicts, unique_fields=unique_fields,
                              update_fields=update_fields, returning=[pk.name, *from_database])
    if numbered:  # numbered rows come back in the order they were sent, as bulk_create relies on too
        if ignore_conflicts:
            raise ValueError("rows numbered by the database cannot be told apart when some are skipped")
        found = [(row, values) for row, values in zip(rows, returned, strict=True)]
    else:
        by_pk = {row.pk: row for row in rows}
        found = [(by_pk[values[0]], values) for values in returned] if from_database else []
    for row, (_, *values) in found:
        for name, value in zip(from_database, values, strict=True):
            setattr(row, meta.get_field(name).attname, value)
    for row in rows:
        row._state.adding, row._state.db = False, router.db_for_write(model)
    return {values[0] for values in returned}


def history_rows_insert(model: type[models.Model], records: Sequence[models.Model], *, update: bool = False) -> None:
    """The history rows of records written in bulk, as simple-history's ``bulk_history_create`` writes them (each
    record's ``_change_reason``, the user, the correlation id and actor of now), in one statement. Call it once
    the records are written, in the same transaction: the tracked values are copied from their rows by the
    database (``INSERT ... SELECT ... JOIN`` on the pks and reasons as two arrays), not sent back from Python,
    which had to serialise every value of every row again (the most of a bulk write's own time)."""
    if not records:
        return
    from hub.models import history_context

    history = model.history.model
    connection = connections[router.db_for_write(history)]
    quote = connection.ops.quote_name
    user = history.get_default_history_user(records[0])
    constants: dict[str, Any] = {
        "history_date": timezone.now(), "history_type": "~" if update else "+",
        "history_user": user.pk if user is not None else None, **history_context()}
    tracked = {field.name for field in history.tracked_fields}
    for field in history._meta.concrete_fields:
        if field.name not in tracked and field.name not in constants and field.name != "history_change_reason" \
                and not field.primary_key:
            constants[field.name] = field.get_default()
    hmeta, meta = history._meta, model._meta
    targets = [hmeta.get_field(field.name).column for field in history.tracked_fields]
    selected = [f"t.{quote(field.column)}" for field in history.tracked_fields]
    params: list[Any] = []
    for name, value in constants.items():
        field = hmeta.get_field(name)
        targets.append(field.column)
        selected.append(f"%s::{field.db_type(connection)}")
        params.append(field.get_db_prep_save(value, connection))
    targets.append(hmeta.get_field("history_change_reason").column)
    selected.append("r.reason")
    pk = meta.pk
    params += [[pk.get_db_prep_value(record.pk, connection) for record in records],
               [getattr(record, "_change_reason", "") or "" for record in records]]
    sql = (f"INSERT INTO {quote(hmeta.db_table)} ({', '.join(quote(c) for c in targets)}) "  # noqa: S608 (names)
           f"SELECT {', '.join(selected)} FROM unnest(%s::{pk.db_type(connection)}[], %s::text[]) "
           f"WITH ORDINALITY AS r(pk, reason, n) JOIN {quote(meta.db_table)} t ON t.{quote(pk.column)} = r.pk "
           "ORDER BY r.n")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class AnyOf(models.Lookup):
    """``field__any=[...]``: ``field = ANY(%s)`` with the values as one array parameter, where ``__in`` makes a
    placeholder of each value, compiled and bound one by one (milliseconds per thousand values, on lists of tens
    of thousands: a placement's source records, a page's keys). Same rows as ``__in``."""

    lookup_name = "any"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=False) for value in self.rhs]
        return f"{lhs} = ANY(%s::{field.db_type(connection)}[])", [*params, values]


models.Field.register_lookup(AnyOf)
models.ForeignObject.register_lookup(AnyOf)  # a relation's lookups are its own (a one-to-one primary key, say)
