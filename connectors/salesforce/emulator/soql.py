"""The SOQL subset connectors use, parsed and run against the emulator's records.

``SELECT <fields | FIELDS(ALL) | COUNT()> FROM <Object> [WHERE <field> <op> <literal> [AND ...]]
[ORDER BY <field> [ASC|DESC][, ...]] [LIMIT n]``. Literals: unquoted ISO datetimes, dates, 'strings',
numbers, true/false/null. Operators: = != < <= > >=. ``COUNT()`` answers the number of rows as ``totalSize``,
with no records (and takes no ORDER BY here). Anything else is MALFORMED_QUERY, as in Salesforce.
"""

from __future__ import annotations

import bisect
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connectors.salesforce.emulator.store import ApiError, Store, Table
from connectors.salesforce.timestamps import parse_sf_datetime as parse_time

_QUERY = re.compile(
    r"^SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(r"^(?P<field>\w+)\s*(?P<op>!=|<=|>=|=|<|>)\s*(?P<value>.+?)$", re.DOTALL)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_OPS = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
FIELDS_ALL_LIMIT = 200


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Query:
    object_type: str
    fields: tuple[str, ...]
    conditions: tuple[Condition, ...]
    order: tuple[tuple[str, bool], ...]  # (field, descending)
    limit: int | None
    count: bool = False  # SELECT COUNT(): the number of rows, no rows


def malformed(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_QUERY", message)


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'"):
            raise malformed(f"unexpected token: {text}")
        return text[1:-1].replace("\\'", "'")
    if _DATETIME.match(text):
        return parse_time(text)
    if _DATE.match(text):
        return date.fromisoformat(text)
    if _NUMBER.match(text):
        return float(text)
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    raise malformed(f"unexpected token: '{text}'")


def parse(soql: str, store: Store) -> Query:
    """Parse ``soql``; raises ApiError MALFORMED_QUERY / INVALID_TYPE / INVALID_FIELD like Salesforce."""
    match = _QUERY.match(soql.strip())
    if not match:
        raise malformed(f"unexpected token: {soql.strip()[:60]!r}")
    object_type = match["object"]
    if object_type not in store.records:
        raise ApiError(400, "INVALID_TYPE", f"sObject type '{object_type}' is not supported. If you are attempting "
                       "to use a custom object, be sure to append the '__c' after the entity name.")
    columns = store.fields(object_type)
    limit = int(match["limit"]) if match["limit"] else None
    requested = [f.strip() for f in match["fields"].split(",")]
    if any(not f for f in requested):
        raise malformed("unexpected token: ','")
    count = [f.upper().replace(" ", "") for f in requested] == ["COUNT()"]
    if count:
        if match["order"]:
            raise malformed("unexpected token: 'ORDER BY' (with COUNT())")
        fields: tuple[str, ...] = ()
    elif [f.upper() for f in requested] == ["FIELDS(ALL)"]:
        if limit is None or limit > FIELDS_ALL_LIMIT:
            raise malformed("The SOQL FIELDS function must have a LIMIT of at most 200")
        fields = tuple(sorted(columns - {"Id"}))
        fields = ("Id", *fields)
    else:
        fields = tuple(requested)
    conditions = []
    if match["where"]:
        for part in re.split(r"\s+AND\s+", match["where"].strip(), flags=re.IGNORECASE):
            cond = _CONDITION.match(part.strip())
            if not cond:
                raise malformed(f"unexpected token: '{part.strip()[:40]}'")
            conditions.append(Condition(cond["field"], cond["op"], _literal(cond["value"])))
    order = []
    if match["order"]:
        for part in match["order"].split(","):
            words = part.split()
            if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
                raise malformed(f"unexpected token: '{part.strip()}'")
            order.append((words[0], len(words) == 2 and words[1].upper() == "DESC"))
    for name in (*fields, *(c.field for c in conditions), *(o[0] for o in order)):
        if name not in columns:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{object_type}'. If you are "
                           "attempting to use a custom field, be sure to append the '__c' after the custom field name.")
    return Query(object_type, fields, tuple(conditions), tuple(order), limit, count)


def _comparable(value: Any, like: Any) -> Any:
    """A record's value in the type of the literal it is compared with."""
    if value is None or like is None:
        return value
    if isinstance(like, datetime):
        return parse_time(value)
    if isinstance(like, date):
        return date.fromisoformat(value[:10])
    if isinstance(like, float) and not isinstance(value, bool):
        return float(value)
    return value


def _matches(record: dict[str, Any], condition: Condition) -> bool:
    value = _comparable(record.get(condition.field), condition.value)
    if condition.op in ("=", "!="):
        return _OPS[condition.op](value, condition.value)
    if value is None or condition.value is None:
        return False
    return _OPS[condition.op](value, condition.value)


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, value)


_HEAD = operator.itemgetter(0, 1)  # an order key's leading field: (is set, value)
#: A condition on an order's leading field, as the part of the order it keeps: op -> (the bisection of the first key
#: kept, of the first key after those kept); None: from, or up to, the end.
_SPANS: dict[str, tuple[Callable[..., int] | None, Callable[..., int] | None]] = {
    ">=": (bisect.bisect_left, None), ">": (bisect.bisect_right, None), "<": (None, bisect.bisect_left),
    "<=": (None, bisect.bisect_right), "=": (bisect.bisect_left, bisect.bisect_right)}


def _read_off(query: Query, table: Table) -> list[dict[str, Any]] | None:
    """The records ``run`` would select and sort, in its order, read off the table's order of the query's ORDER BY
    fields (``Table.order``) when that is what the sort gives: the ORDER BY all ascending and every condition on its
    leading field, a datetime (a delta query: ``SystemModstamp >= ... ORDER BY SystemModstamp, Id``), while every
    value of that field is a datetime as the emulator writes it (text that sorts as the instants it names), so a
    bisection finds the records the conditions keep. None otherwise (every record is tested and sorted)."""
    if not query.order or any(descending for _, descending in query.order):
        return None
    lead = query.order[0][0]
    if any(c.field != lead or c.op not in _SPANS or not isinstance(c.value, datetime) for c in query.conditions):
        return None
    order = table.order(tuple(field for field, _ in query.order))
    if order is None or (query.conditions and order.odd):
        return None
    keys = order.keys
    start, stop = 0, len(keys)
    if query.conditions:  # an empty field is never kept
        start = bisect.bisect_right(keys, (0, ""), key=_HEAD)
    for condition in query.conditions:
        first, after = _SPANS[condition.op]
        if first is not None:
            start = first(keys, condition.value, start, stop, key=_instant)
        if after is not None:
            stop = after(keys, condition.value, start, stop, key=_instant)
    return [table[key[-1]] for key in keys[start:stop] if order.live(key)]


def _instant(key: tuple[Any, ...]) -> datetime:
    return parse_time(key[1])


def run(query: Query, store: Store, *, include_deleted: bool) -> list[tuple[str, dict[str, Any]]]:
    """(Id, row) for the rows of ``query``: selected fields only, in order, limited; deleted rows only for
    queryAll."""
    table = store.records[query.object_type]
    rows = _read_off(query, table)
    if rows is not None:
        rows = rows if include_deleted else [r for r in rows if not r["IsDeleted"]]
    else:
        rows = [r for r in table.values()
                if (include_deleted or not r["IsDeleted"]) and all(_matches(r, c) for c in query.conditions)]
        for name, descending in reversed(query.order):
            rows.sort(key=lambda r, n=name: _sort_key(r.get(n)), reverse=descending)
    if query.limit is not None:
        rows = rows[:query.limit]
    return [(r["Id"], {name: r.get(name) for name in query.fields}) for r in rows]
