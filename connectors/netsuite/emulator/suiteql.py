"""The slice of SuiteQL the connectors use, parsed and run over in-memory rows.

Supported: ``SELECT <*|col|TO_CHAR(col,'fmt') [AS alias], ...> FROM <table> [WHERE <col> <op> <value>
[AND ...]] [ORDER BY <col> [ASC|DESC], ...]`` with values that are numbers, 'strings' or
``TO_DATE('...','fmt')``. Anything else is a search error, as NetSuite answers it (400 INVALID_PARAMETER).
Datetimes are kept in UTC and rendered in the account time zone: bare as the user's date format
(``M/D/YYYY``), through TO_CHAR as the format asks.
"""

from __future__ import annotations

import functools
import operator
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from connectors.netsuite.emulator.responses import Problem

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>>=|<=|<>|!=|[=<>(),*])"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.]*))")
_FORMAT = re.compile(r'"[^"]*"|YYYY|HH24|MM|DD|MI|SS|.', re.IGNORECASE)
_STRF = {"YYYY": "%Y", "HH24": "%H", "MM": "%m", "DD": "%d", "MI": "%M", "SS": "%S"}
OPS: dict[str, Callable[[Any, Any], bool]] = {">=": operator.ge, ">": operator.gt, "<=": operator.le,
                                              "<": operator.lt, "=": operator.eq, "!=": operator.ne,
                                              "<>": operator.ne}
DETAIL = "Invalid search query. Detailed unprocessed description follows. Search error occurred: {}"


def search_error(reason: str) -> Problem:
    return Problem(400, "INVALID_PARAMETER", DETAIL.format(reason))


@functools.lru_cache(maxsize=64)
def strftime_format(oracle: str) -> str:
    """An Oracle date format ('YYYY-MM-DD"T"HH24:MI:SS') as a strftime one (translated once per format, not
    once per row)."""
    out = []
    for piece in _FORMAT.findall(oracle):
        if piece.startswith('"'):
            out.append(piece[1:-1].replace("%", "%%"))
        else:
            out.append(_STRF.get(piece.upper(), piece.replace("%", "%%")))
    return "".join(out)


@dataclass(frozen=True)
class Column:
    name: str  # source column, or "*"
    alias: str
    to_char: str | None = None  # Oracle format when wrapped in TO_CHAR


@dataclass(frozen=True)
class Condition:
    column: str
    op: str
    value: Any  # int, str, or datetime (TO_DATE, account-local converted to UTC)


@dataclass(frozen=True)
class Query:
    columns: tuple[Column, ...]
    table: str
    where: tuple[Condition, ...]
    order: tuple[tuple[str, bool], ...]  # (column, descending)

    def referenced(self) -> set[str] | None:
        """The columns the query reads (None: every column, ``SELECT *``)."""
        if any(c.name == "*" for c in self.columns):
            return None
        return {c.name for c in self.columns} | {c.column for c in self.where} | {name for name, _ in self.order}


class _Parser:
    def __init__(self, text: str, tz: tzinfo) -> None:
        self.tokens: list[tuple[str, str]] = []
        self.tz = tz
        pos, text = 0, text.strip().rstrip(";")
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise search_error(f"Unexpected character at position {pos}.")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.i = 0

    def peek(self) -> str:
        return self.tokens[self.i][1].upper() if self.i < len(self.tokens) else ""

    def take(self, kind: str | None = None) -> str:
        if self.i >= len(self.tokens) or (kind and self.tokens[self.i][0] != kind):
            raise search_error("Syntax error near '" + (self.tokens[self.i][1] if self.i < len(self.tokens)
                                                        else "end of query") + "'.")
        self.i += 1
        return self.tokens[self.i - 1][1]

    def expect(self, word: str) -> None:
        if self.peek() != word:
            raise search_error(f"Expected {word} near '{self.peek() or 'end of query'}'.")
        self.i += 1

    def string(self) -> str:
        return self.take("str")[1:-1].replace("''", "'")

    def parse(self) -> Query:
        self.expect("SELECT")
        columns = [self.column()]
        while self.peek() == ",":
            self.i += 1
            columns.append(self.column())
        self.expect("FROM")
        table = self.take("name").lower()
        where: list[Condition] = []
        if self.peek() == "WHERE":
            self.i += 1
            where.append(self.condition())
            while self.peek() == "AND":
                self.i += 1
                where.append(self.condition())
        order: list[tuple[str, bool]] = []
        if self.peek() == "ORDER":
            self.i += 1
            self.expect("BY")
            while True:
                name = self.take("name").lower()
                descending = self.peek() == "DESC"
                if self.peek() in ("ASC", "DESC"):
                    self.i += 1
                order.append((name, descending))
                if self.peek() != ",":
                    break
                self.i += 1
        if self.i != len(self.tokens):
            raise search_error(f"Syntax error near '{self.tokens[self.i][1]}'.")
        return Query(tuple(columns), table, tuple(where), tuple(order))

    def column(self) -> Column:
        if self.peek() == "*":
            self.i += 1
            return Column("*", "*")
        to_char = None
        if self.peek() == "TO_CHAR":
            self.i += 1
            self.expect("(")
            name = self.take("name").lower()
            self.expect(",")
            to_char = self.string()
            self.expect(")")
        else:
            name = self.take("name").lower()
        alias = name
        if self.peek() == "AS":
            self.i += 1
            alias = self.take("name").lower()
        elif to_char:
            alias = "expr1"
        return Column(name, alias, to_char)

    def condition(self) -> Condition:
        name = self.take("name").lower()
        op = self.take("op")
        if op not in OPS:
            raise search_error(f"Unsupported operator '{op}'.")
        if self.peek() == "TO_DATE":
            self.i += 1
            self.expect("(")
            text = self.string()
            self.expect(",")
            fmt = self.string()
            self.expect(")")
            try:
                local = datetime.strptime(text, strftime_format(fmt))
            except ValueError:
                raise search_error(f"Invalid date '{text}' for format '{fmt}'.") from None
            return Condition(name, op, local.replace(tzinfo=self.tz).astimezone(UTC))
        if self.i < len(self.tokens) and self.tokens[self.i][0] == "num":
            return Condition(name, op, int(float(self.take("num"))))
        return Condition(name, op, self.string())


def parse(text: str, tz: tzinfo) -> Query:
    return _Parser(text, tz).parse()


def _render(value: Any, tz: tzinfo, to_char: str | None) -> str:
    if isinstance(value, datetime):
        local = value.astimezone(tz)
        if to_char:
            return local.strftime(strftime_format(to_char))
        return f"{local.month}/{local.day}/{local.year}"
    return str(value)


def run(query: Query, rows: Sequence[dict[str, Any]], tz: tzinfo) -> list[dict[str, str]]:
    """Filter, sort and project ``rows`` (one table's) as the query says; values rendered as strings."""
    known = set().union(*(r.keys() for r in rows)) if rows else set()
    wanted = [c.name for c in query.columns if c.name != "*"] + [c.column for c in query.where]
    for name in [*wanted, *(n for n, _ in query.order)]:
        if rows and name not in known:
            raise search_error(f"Field '{name}' for record '{query.table}' was not found. Reason: NOT_EXPOSED - "
                               "Not available for channel SEARCH")

    def keep(row: dict[str, Any]) -> bool:
        for cond in query.where:
            value = row.get(cond.column)
            if value is None:
                return False
            if isinstance(cond.value, int) and not isinstance(value, int | datetime):
                try:
                    value = int(value)
                except ValueError:
                    return False
            try:
                if not OPS[cond.op](value, cond.value):
                    return False
            except TypeError:
                raise search_error(f"Cannot compare field '{cond.column}' with the given value.") from None
        return True

    selected = [r for r in rows if keep(r)]
    for name, descending in reversed(query.order):
        selected.sort(key=lambda r, n=name: (r.get(n) is not None, r.get(n)), reverse=descending)
    out = []
    for row in selected:
        item: dict[str, str] = {}
        for col in query.columns:
            if col.name == "*":
                item.update({k: _render(v, tz, None) for k, v in row.items() if v is not None})
            elif row.get(col.name) is not None:  # SuiteQL leaves empty columns out of the item
                item[col.alias] = _render(row[col.name], tz, col.to_char)
        out.append(item)
    return out


class Results:
    """Evaluated queries by their text, each with the version of its table it was computed from: paging through
    a result with limit/offset evaluates the query once, not once per page, while any change to the table makes
    the next page evaluate it again (NetSuite's paging reads the table as it is). The result of a paging that
    reached its end is dropped, and at most ``SIZE`` are held (the least recently used goes first)."""

    SIZE = 8

    def __init__(self) -> None:
        self._held: OrderedDict[str, tuple[Any, list[dict[str, str]]]] = OrderedDict()

    def get(self, text: str, version: Any, evaluate: Callable[[], list[dict[str, str]]]) -> list[dict[str, str]]:
        held = self._held.get(text)
        if held is None or held[0] != version:
            held = (version, evaluate())
        self._held[text] = held
        self._held.move_to_end(text)
        while len(self._held) > self.SIZE:
            self._held.popitem(last=False)
        return held[1]

    def forget(self, text: str) -> None:
        self._held.pop(text, None)
