"""The slice of SuiteQL the connectors use, parsed and run over in-memory rows.

Supported::

    SELECT <item>, ... FROM <table> [[AS] <alias>]
        [[LEFT [OUTER] | INNER] JOIN <table> [[AS] <alias>] ON <ref> = <ref>] ...
        [WHERE <condition>] [ORDER BY <ref> [ASC|DESC], ...]

A select item is ``*``, ``<ref>``, ``TO_CHAR(<ref>, 'fmt')`` or ``BUILTIN.DF(<ref>)``, each with an optional
``AS <name>``; without it a column is named after itself (unqualified, lower-case), an expression ``expr1``,
``expr2``, ... in the order the unnamed ones come. A ``<ref>`` is ``<column>``, of the FROM table, or
``<name>.<column>``, the name being a table's alias or, when it has none, the table's own name (a table with an
alias is named by its alias only, as in Oracle). ``JOIN`` alone is an inner join; ``ON`` compares a column of the
table it joins with one of a table before it; a LEFT JOIN row without a partner has that table's columns empty;
``*`` in a join is every table's columns (the first table to have a name gives its value). A WHERE condition is
``<ref> <op> <value>`` or conditions joined by AND and OR, in parentheses as need be (AND binds tighter than OR:
see ``where``). Values are numbers, 'strings' or ``TO_DATE('...','fmt')``; operators ``= <> != < <= > >=``.
Anything else (RIGHT, FULL and CROSS joins, NOT, functions in WHERE or ORDER BY, ...) is a search error, as
NetSuite answers what it cannot run (400 INVALID_PARAMETER), as are an unknown table, alias or column.

Datetimes are kept in UTC and rendered in the account time zone: bare as the user's date format (``M/D/YYYY``),
through TO_CHAR as the format asks; TO_CHAR formats a date field (kept as the record service writes it,
``YYYY-MM-DD``) too. A reference column reads as the referenced record's internal id, ``BUILTIN.DF`` of it as the
record's name (the refName the record holds, else the id); of any other column, as the column reads. Empty columns
are left out of an item.
"""

from __future__ import annotations

import bisect
import functools
import operator
import re
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from types import MappingProxyType
from typing import Any, overload

from connectors.netsuite.emulator.responses import search_error
from connectors.netsuite.emulator.where import OPS, Condition, Conjunct, Either, Ref, conditions, refs, tester

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>>=|<=|<>|!=|[=<>(),*])"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.]*))")
_FORMAT = re.compile(r'"[^"]*"|YYYY|HH24|MM|DD|MI|SS|.', re.IGNORECASE)
_STRF = {"YYYY": "%Y", "HH24": "%H", "MM": "%m", "DD": "%d", "MI": "%M", "SS": "%S"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}$")  # a date field as the record service writes it
# Words that end a table in FROM or JOIN rather than give it an alias.
_KEYWORDS = frozenset({"WHERE", "ORDER", "GROUP", "HAVING", "UNION", "FETCH", "OFFSET", "LEFT", "RIGHT", "FULL",
                       "INNER", "OUTER", "CROSS", "JOIN", "ON", "AS", "AND", "OR"})
_JOINS = ("LEFT", "INNER", "JOIN", "RIGHT", "FULL", "CROSS")
#: The row of a LEFT JOIN's missing partner: every column empty.
EMPTY: Mapping[str, Any] = MappingProxyType({})

Row = Mapping[str, Any]


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


class Reference(str):
    """A reference column's value: the referenced record's internal id, which is what the column reads, compares
    and sorts as, carrying the record's name for ``BUILTIN.DF``. Only a reference with both an id and a name
    needs one: with either alone, that one value is both (a plain ``str`` costs less, 100,000 rows over)."""

    display: str

    def __new__(cls, record_id: str, name: str) -> Reference:
        value = super().__new__(cls, record_id)
        value.display = name
        return value


def display(value: Any) -> Any:
    """What ``BUILTIN.DF`` reads of a column: a reference's name, any other value as it is."""
    return value.display if isinstance(value, Reference) else value


@dataclass(frozen=True)
class Column:
    ref: Ref | None  # None for "*"
    alias: str
    to_char: str | None = None  # Oracle format when wrapped in TO_CHAR
    display: bool = False  # wrapped in BUILTIN.DF


@dataclass(frozen=True)
class Source:
    """A table of the FROM clause and the name the query calls it by."""

    table: str
    name: str


@dataclass(frozen=True)
class Join:
    source: Source
    outer: bool  # LEFT [OUTER] JOIN: the rows without a partner stay
    own: Ref  # the ON column of the table joined
    other: Ref  # the ON column of a table before it


@dataclass(frozen=True)
class Query:
    columns: tuple[Column, ...]
    source: Source  # the FROM table
    joins: tuple[Join, ...]
    where: tuple[Conjunct, ...]  # a conjunction (see ``where``)
    order: tuple[tuple[Ref, bool], ...]  # (column, descending)

    @property
    def table(self) -> str:
        return self.source.table

    @property
    def sources(self) -> tuple[Source, ...]:
        """The FROM table, then each joined one: the order of a joined row's tuple."""
        return (self.source, *(j.source for j in self.joins))

    def position(self, name: str) -> int:
        return next(i for i, source in enumerate(self.sources) if source.name == name)

    def table_of(self, ref: Ref) -> str:
        return self.sources[self.position(ref.source)].table

    def refs(self) -> Iterator[Ref]:
        """Every column the query names, in the order they are checked."""
        yield from (c.ref for c in self.columns if c.ref is not None)
        for step in self.joins:
            yield from (step.other, step.own)
        yield from refs(self.where)
        yield from (ref for ref, _ in self.order)

    def own_where(self) -> tuple[Conjunct, ...]:
        """The WHERE conjuncts on the FROM table's columns alone: they can be tested before a join."""
        return tuple(c for c in self.where if all(ref.source == self.source.name for ref in refs((c,))))

    def referenced(self) -> dict[str, set[str] | None]:
        """table -> the columns the query reads of it (None: every column, ``SELECT *``), FROM table first."""
        star = any(c.ref is None for c in self.columns)
        wanted: dict[str, set[str] | None] = {s.table: None if star else set() for s in self.sources}
        for ref in self.refs():
            columns = wanted[self.table_of(ref)]
            if columns is not None:
                columns.add(ref.column)
        return wanted


class _Parser:
    def __init__(self, text: str, tz: tzinfo) -> None:
        self.tokens: list[tuple[str, str]] = []
        self.tz = tz
        self.sources: dict[str, Source] = {}  # by name, as FROM and JOIN bring them in
        self.unnamed = 0  # expressions without AS so far: the next is expr<unnamed + 1>
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

    def at(self, kind: str) -> bool:
        return self.i < len(self.tokens) and self.tokens[self.i][0] == kind

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
        source = self.source()
        joins: list[Join] = []
        while self.peek() in _JOINS:
            joins.append(self.join())
        where: tuple[Conjunct, ...] = ()
        if self.peek() == "WHERE":
            self.i += 1
            where = self.conjunction(self.disjunction())
        order: list[tuple[Ref, bool]] = []
        if self.peek() == "ORDER":
            self.i += 1
            self.expect("BY")
            while True:
                ref = self.resolve(self.ref())
                descending = self.peek() == "DESC"
                if self.peek() in ("ASC", "DESC"):
                    self.i += 1
                order.append((ref, descending))
                if self.peek() != ",":
                    break
                self.i += 1
        if self.i != len(self.tokens):
            raise search_error(f"Syntax error near '{self.tokens[self.i][1]}'.")
        # The select list comes before the tables it names: its columns are resolved once they are all known.
        resolved = tuple(c if c.ref is None else replace(c, ref=self.resolve(c.ref)) for c in columns)
        return Query(resolved, source, tuple(joins), where, tuple(order))

    def ref(self) -> Ref:
        """``column`` or ``name.column``, not resolved yet."""
        text = self.take("name")
        qualifier, _, column = text.lower().rpartition(".")
        if not column or "." in qualifier:
            raise search_error(f"Syntax error near '{text}'.")
        return Ref(qualifier, column)

    def resolve(self, ref: Ref) -> Ref:
        """The ref with the name of the table it reads: unqualified, the FROM table."""
        if not ref.source:
            return Ref(next(iter(self.sources)), ref.column)
        if ref.source not in self.sources:
            raise search_error(f"Unknown table or alias '{ref.source}' in '{ref.source}.{ref.column}' (a table "
                               "with an alias is named by its alias).")
        return ref

    def source(self) -> Source:
        """``<table> [[AS] <alias>]``."""
        table = self.take("name").lower()
        name = table
        if self.peek() == "AS":
            self.i += 1
            name = self.take("name").lower()
        elif self.at("name") and self.peek() not in _KEYWORDS:
            name = self.take("name").lower()
        if "." in name and name != table:
            raise search_error(f"Syntax error near '{name}'.")
        if name in self.sources:
            raise search_error(f"The table name or alias '{name}' is used twice: give each table its own alias.")
        self.sources[name] = Source(table, name)
        return self.sources[name]

    def join(self) -> Join:
        """``[LEFT [OUTER] | INNER] JOIN <table> [[AS] <alias>] ON <ref> = <ref>``."""
        kind = self.peek()
        if kind in ("RIGHT", "FULL", "CROSS"):
            raise search_error(f"{kind} JOIN is not supported; use LEFT JOIN or INNER JOIN.")
        outer = kind == "LEFT"
        if kind != "JOIN":
            self.i += 1
            if outer and self.peek() == "OUTER":
                self.i += 1
        self.expect("JOIN")
        source = self.source()
        self.expect("ON")
        first = self.resolve(self.ref())
        if self.take("op") != "=":
            raise search_error("A join's ON clause must be an equality of two columns.")
        second = self.resolve(self.ref())
        if (first.source == source.name) == (second.source == source.name):
            raise search_error(f"The ON clause of the join of '{source.name}' must compare one of its columns with "
                               "a column of a table before it.")
        own, other = (first, second) if first.source == source.name else (second, first)
        return Join(source, outer, own, other)

    def column(self) -> Column:
        if self.peek() == "*":
            self.i += 1
            return Column(None, "*")
        to_char, shown = None, False
        if self.peek() == "TO_CHAR":
            self.i += 1
            self.expect("(")
            ref = self.ref()
            self.expect(",")
            to_char = self.string()
            self.expect(")")
        elif self.peek() == "BUILTIN.DF":
            self.i += 1
            self.expect("(")
            ref = self.ref()
            self.expect(")")
            shown = True
        else:
            ref = self.ref()
        if self.peek() == "AS":
            self.i += 1
            alias = self.take("name").lower()
        elif to_char is not None or shown:  # SuiteQL numbers the expressions left unnamed
            self.unnamed += 1
            alias = f"expr{self.unnamed}"
        else:
            alias = ref.column
        return Column(ref, alias, to_char, shown)

    def disjunction(self) -> tuple[tuple[Conjunct, ...], ...]:
        """``term (OR term)*``: its terms, each a conjunction; a term that is itself a disjunction (in parentheses)
        gives its own terms (``a OR (b OR c)`` is ``a OR b OR c``)."""
        options = [self.term()]
        while self.peek() == "OR":
            self.i += 1
            options.append(self.term())
        return tuple(option for term in options
                     for option in (term[0].options if len(term) == 1 and isinstance(term[0], Either) else (term,)))

    def term(self) -> tuple[Conjunct, ...]:
        """``factor (AND factor)*``: a conjunction (a parenthesised conjunction is part of it, not a conjunct)."""
        conjuncts = list(self.factor())
        while self.peek() == "AND":
            self.i += 1
            conjuncts.extend(self.factor())
        return tuple(conjuncts)

    def factor(self) -> tuple[Conjunct, ...]:
        """``'(' expr ')'`` or a condition, as conjuncts."""
        if self.peek() != "(":
            return (self.condition(),)
        self.i += 1
        options = self.disjunction()
        self.expect(")")
        return self.conjunction(options)

    @staticmethod
    def conjunction(options: tuple[tuple[Conjunct, ...], ...]) -> tuple[Conjunct, ...]:
        """A disjunction as conjuncts: the one option's, or the one Either."""
        return options[0] if len(options) == 1 else (Either(options),)

    def condition(self) -> Condition:
        ref = self.resolve(self.ref())
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
            return Condition(ref, op, local.replace(tzinfo=self.tz).astimezone(UTC))
        if self.at("num"):
            return Condition(ref, op, int(float(self.take("num"))))
        return Condition(ref, op, self.string())


def parse(text: str, tz: tzinfo) -> Query:
    return _Parser(text, tz).parse()


def check(query: Query, fields: Mapping[str, Collection[str] | None]) -> None:
    """Refuse a column its table does not have, as NetSuite does (``fields``: table -> its columns, None for a
    table with no rows to tell them)."""
    for ref in query.refs():
        table = query.table_of(ref)
        known = fields.get(table)
        if known is not None and ref.column not in known:
            raise search_error(f"Field '{ref.column}' for record '{table}' was not found. Reason: NOT_EXPOSED - "
                               "Not available for channel SEARCH")


def _join_key(value: Any) -> Any:
    """A value as an ON clause compares it: a reference (an internal id as text) equals the number it names."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


def index_rows(rows: Sequence[Row], column: str) -> tuple[dict[Any, Row], dict[Any, list[Row]]]:
    """Rows by a column's value: the first row of each value, and every row of the values more rows share (a
    key such as ``nkey`` is unique: no list is made for it)."""
    first: dict[Any, Row] = {}
    more: dict[Any, list[Row]] = {}
    for row in rows:
        key = _join_key(row.get(column))
        if key is None:  # NULL equals nothing
            continue
        if key not in first:
            first[key] = row
        else:
            more.setdefault(key, [first[key]]).append(row)
    return first, more


def pushdown(query: Query, rows: Sequence[Row]) -> list[Row]:
    """The FROM table's rows that the WHERE conditions on its own columns keep: filtered before a join, so a
    delta query (``lastmodifieddate >= ...``) joins the rows it reads, not the whole table."""
    own = query.own_where()
    return _filter(replace(query, joins=(), where=own), rows) if own else list(rows)


Index = Callable[[Sequence[Row], str], tuple[dict[Any, Row], dict[Any, list[Row]]]]


def join(query: Query, tables: Mapping[str, Sequence[Row]], indexed: Index | None = None) -> list[tuple[Row, ...]]:
    """The FROM table's rows joined as the query's JOINs say (``tables``: table -> its rows): a tuple per result
    row, one row of each table in ``query.sources`` order, ``EMPTY`` for a LEFT JOIN's missing partner. A hash
    join: each joined table is indexed once by its ON column, each row finds its partners by one lookup (a loop
    over both tables would be 10^10 steps at 100,000 customers). ``indexed`` may serve the indexes (kept with the
    rows they index, say)."""
    joined: Sequence[Any] = tables[query.table]
    for n, step in enumerate(query.joins):
        first, more = (indexed or index_rows)(tables[step.source.table], step.own.column)
        at, column = query.position(step.other.source), step.other.column
        out: list[tuple[Row, ...]] = []
        for left in joined:
            if n == 0:  # the FROM table's row itself, not yet a tuple
                key, left = _join_key(left.get(column)), (left,)
            else:
                key = _join_key(left[at].get(column))
            partner = first.get(key)
            if partner is None:
                if step.outer:
                    out.append((*left, EMPTY))
            elif key in more:
                out.extend([(*left, row) for row in more[key]])
            else:
                out.append((*left, partner))
        joined = out
    return list(joined)


def _reader(query: Query, ref: Ref) -> Callable[[Any], Any]:
    """How to read a column from a row the query runs over: a table's row, or a joined row's tuple."""
    if not query.joins:
        return operator.methodcaller("get", ref.column)
    at, column = query.position(ref.source), ref.column
    return lambda row: row[at].get(column)


def _value(query: Query, ref: Ref, shown: bool) -> Callable[[Any], Any]:
    """How to read a select item's value (before TO_CHAR renders it): through BUILTIN.DF when ``shown``."""
    read = _reader(query, ref)
    if not shown:
        return read
    return lambda row: display(read(row))


def _render(value: Any, tz: tzinfo, to_char: str | None) -> str:
    if isinstance(value, datetime):
        local = value.astimezone(tz)
        if to_char is not None:
            return local.strftime(strftime_format(to_char))
        return f"{local.month}/{local.day}/{local.year}"
    if to_char is not None and isinstance(value, str) and _ISO_DATE.match(value):
        return date.fromisoformat(value).strftime(strftime_format(to_char))  # a date field, TO_CHAR'd
    return str(value)


def _filter(query: Query, rows: Sequence[Any]) -> list[Any]:
    """The rows the WHERE clause keeps (see ``where.tester``)."""
    keep = tester(query.where, functools.partial(_reader, query))
    return [row for row in rows if keep(row)]


def _sort_key(reads: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """A sort key over columns, empty values first: ``(is set, value)`` for each (one flat tuple for one or two
    columns, the common ORDER BY stamp, id; 100,000 keys are made per sort)."""
    if len(reads) == 1:
        (read,) = reads

        def key(row: Any) -> Any:
            value = read(row)
            return value is not None, value
    elif len(reads) == 2:
        read, then = reads

        def key(row: Any) -> Any:
            value, next_value = read(row), then(row)
            return value is not None, value, next_value is not None, next_value
    else:
        def key(row: Any) -> Any:
            return [(v is not None, v) for v in [read(row) for read in reads]]
    return key


def _sort(query: Query, rows: list[Any]) -> None:
    """ORDER BY. Keys in a row in the same direction sort in one pass (the sort is stable, so passes from the
    last key to the first order by all of them)."""
    passes: list[tuple[list[Callable[[Any], Any]], bool]] = []
    for ref, descending in query.order:
        if passes and passes[-1][1] == descending:
            passes[-1][0].append(_reader(query, ref))
        else:
            passes.append(([_reader(query, ref)], descending))
    for reads, descending in reversed(passes):
        rows.sort(key=_sort_key(reads), reverse=descending)


def _projector(query: Query, tz: tzinfo) -> Callable[[Any], dict[str, str]]:
    """How a selected row becomes an item (SuiteQL leaves empty columns out of the item)."""
    parts = [(col.alias, None if col.ref is None else _value(query, col.ref, col.display), col.to_char)
             for col in query.columns]

    def project(row: Any) -> dict[str, str]:
        item: dict[str, str] = {}
        for alias, read, to_char in parts:
            if read is None:
                item.update(_star(query, row, tz))
                continue
            value = read(row)
            if value is not None:
                item[alias] = _render(value, tz, to_char)
        return item

    return project


def _star(query: Query, row: Any, tz: tzinfo) -> dict[str, str]:
    """``*``: every column of the row; of a joined row, of each table in turn (the first to have a name wins)."""
    if not query.joins:
        return {k: _render(v, tz, None) for k, v in row.items() if v is not None}
    out: dict[str, str] = {}
    for part in row:
        for k, v in part.items():
            if v is not None and k not in out:
                out[k] = _render(v, tz, None)
    return out


class Items(Sequence[dict[str, str]]):
    """A query's result: its rows selected and sorted, rendered into items only as a page asks for them (a page
    of a 100,000-row result renders its 1,000 items, not the 100,000)."""

    def __init__(self, rows: Sequence[Any], project: Callable[[Any], dict[str, str]]) -> None:
        self._rows = rows
        self._project = project

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> dict[str, str]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, str]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, str] | list[dict[str, str]]:
        if isinstance(index, slice):
            return self._items(list(self._rows[index]))
        return self._items([self._rows[index]])[0]

    def _items(self, rows: list[Any]) -> list[dict[str, str]]:
        return [self._project(row) for row in rows]


def run(query: Query, rows: Sequence[Any], tz: tzinfo) -> Items:
    """Filter, sort and project rows as the (``check``-ed) query says: one table's rows or, with joins, ``join``'s
    tuples. Values are rendered as strings. The rows are read, never changed: a result may be paged through
    after they were built anew."""
    selected = _filter(query, rows)
    _sort(query, selected)
    return Items(selected, _projector(query, tz))


def family(kinds: Collection[type]) -> type | None:
    """What a column's values are to a comparison, given their types: ``datetime``, ``int`` or ``str`` (a
    Reference is a str) when they are all of one of these, None when the column is empty in every row, ``object``
    when they are of several kinds (two of which may not compare)."""
    if not kinds:
        return None
    return next((f for f in (datetime, int, str) if all(issubclass(kind, f) for kind in kinds)), object)


def _compares(condition: Condition, kinds: Collection[type]) -> bool:
    """Whether a condition compares with every value of its column without an error (``run`` would raise a search
    error, or worse, at a value that does not): a datetime with datetimes, a string with strings, a number with
    numbers or with strings (read as numbers, or not kept)."""
    column, value = family(kinds), family((type(condition.value),))
    return column is None or column is value or (value is int and column is str)


def _order_key(columns: tuple[str, ...]) -> Callable[[Row, int], tuple[Any, ...]]:
    """A row's key in an ``Ordered``: ``_sort_key``'s over its columns, flat, and the row's place in its table."""
    if len(columns) == 1:
        (column,) = columns

        def key(row: Row, place: int) -> tuple[Any, ...]:
            value = row.get(column)
            return value is not None, value, place
    elif len(columns) == 2:
        column, then = columns

        def key(row: Row, place: int) -> tuple[Any, ...]:
            value, next_value = row.get(column), row.get(then)
            return value is not None, value, next_value is not None, next_value, place
    else:
        def key(row: Row, place: int) -> tuple[Any, ...]:
            values = [row.get(c) for c in columns]
            return (*(part for value in values for part in (value is not None, value)), place)
    return key


_HEAD = operator.itemgetter(0, 1)  # a key's (is set, value) of the leading column
#: A condition on a column of an order, as the part of the order it keeps: ``(op, (is set, value))`` -> (the
#: bisection of the first key kept, of the first key after those kept); None: from, or up to, the end.
_SPANS: dict[str, tuple[Callable[..., int] | None, Callable[..., int] | None]] = {
    ">=": (bisect.bisect_left, None), ">": (bisect.bisect_right, None), "<": (None, bisect.bisect_left),
    "<=": (None, bisect.bisect_right), "=": (bisect.bisect_left, bisect.bisect_right)}


class Ordered:
    """A table's rows in the order of an ORDER BY of its own columns, all ascending: a sorted list of keys, each
    ``_sort_key``'s of the row, flat, ending with the row's place in the table, so rows tied on every column keep
    their table order, as ``run``'s stable sort keeps them. The keys of any of the rows are in the order ``run``
    would sort those rows in, as long as each column's values are of one kind (``family``): ``of`` makes none for
    rows whose values are not. A query ordered so reads its result off the order (``window``) instead of sorting
    the table for every page; the order of rows that changed since is caught up, not made again. Never changed
    once made: a result read off it may be paged through while newer rows have their own."""

    def __init__(self, columns: tuple[str, ...], keys: list[tuple[Any, ...]]) -> None:
        self.columns = columns
        self.keys = keys

    @classmethod
    def of(cls, columns: tuple[str, ...], rows: Sequence[Row],
           kinds: Callable[[str], Collection[type]]) -> Ordered | None:
        """The order of ``rows`` (``kinds``: column -> the types of its values in them)."""
        if any(family(kinds(column)) is object for column in columns):
            return None
        key = _order_key(columns)
        try:
            return cls(columns, sorted(key(row, place) for place, row in enumerate(rows)))
        except TypeError:  # datetimes with and without a time zone: no order to tell
            return None

    def caught_up(self, before: Sequence[Row], after: Sequence[Row], changed: Iterable[int]) -> Ordered | None:
        """The order of ``after``: the rows ``before`` this order is of, with those at the places ``changed`` made
        anew or added. The keys of the rows that changed are moved (a bisection and a move of the keys after it,
        each); None when it would be less work to sort them all again, or it cannot be told."""
        changed = list(changed)
        if len(changed) * 16 > len(after):
            return None
        key, keys = _order_key(self.columns), list(self.keys)
        try:
            for place in changed:
                if place < len(before):
                    at = bisect.bisect_left(keys, key(before[place], place))
                    if at == len(keys) or keys[at][-1] != place:
                        return None
                    del keys[at]
                bisect.insort(keys, key(after[place], place))
        except TypeError:
            return None
        return Ordered(self.columns, keys)

    def span(self, op: str, value: Any, start: int, stop: int, at: int = 0) -> tuple[int, int]:
        """The part of ``keys[start:stop]`` whose column ``at`` (the leading one by default) ``op value`` keeps
        (``value`` of the kind of the column's values: one comparison orders both, and an empty column keeps no
        row). ``keys[start:stop]`` are in the order of that column: each column before it holds one value in them."""
        first, after = _SPANS[op]
        head = _HEAD if at == 0 else operator.itemgetter(2 * at, 2 * at + 1)
        start = bisect.bisect_right(self.keys, (False, None), start, stop, key=head)  # empty: never kept
        if first is not None:
            start = first(self.keys, (True, value), start, stop, key=head)
        if after is not None:
            stop = after(self.keys, (True, value), start, stop, key=head)
        return start, max(start, stop)


class _Span(Sequence[Row]):
    """The rows of a span of an order, in its order, looked up only as they are asked for."""

    def __init__(self, rows: Sequence[Row], order: Ordered, start: int, stop: int) -> None:
        self._rows, self._keys, self._span = rows, order.keys, range(start, stop)

    def __len__(self) -> int:
        return len(self._span)

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return [self._rows[self._keys[at][-1]] for at in self._span[index]]
        return self._rows[self._keys[self._span[index]][-1]]


class Window(Items):
    """A query's result read off its FROM table's order: its FROM rows, in result order, joined and rendered only
    as a page asks for them (a page of a 100,000-row result joins and renders its 1,000 rows)."""

    def __init__(self, query: Query, tables: Mapping[str, Sequence[Row]], picked: Sequence[Row],
                 indexed: Index, tz: tzinfo) -> None:
        super().__init__(picked, _projector(query, tz))
        self._query, self._tables, self._indexed = query, tables, indexed

    def _items(self, rows: list[Row]) -> list[dict[str, str]]:
        if self._query.joins:
            rows = join(self._query, {**self._tables, self._query.table: rows}, self._indexed)
        return [self._project(row) for row in rows]


def window(query: Query, tables: Mapping[str, Sequence[Row]], ordered: Callable[[tuple[str, ...]], Ordered | None],
           kinds: Callable[[str], Collection[type]], indexed: Index, tz: tzinfo) -> Window | None:
    """The query's result read off the order of its FROM table's rows (``tables[query.table]``) by its ORDER BY,
    when that is what ``run`` gives: when the query is ordered by the FROM table's columns, all ascending
    (``ordered``: their order, if the rows have one), every WHERE condition (those OR-ed too) is on the FROM table
    and compares with every value of its column (``kinds``: column -> the types of its values in the FROM rows),
    and every join is a LEFT JOIN on a column of the joined table no two of its rows share (``indexed`` tells):
    each FROM row is then one result row, joined to its one partner or to EMPTY whatever rows are joined with it,
    so a page's rows can be joined alone. A condition on the leading ORDER BY column, of the kind of its values,
    keeps a span of the order, found by bisection (and, within an ``=``'s span, one on the next column: see
    ``_narrow``); a disjunction keeps the rows of its options' spans (``_either``); the other conjuncts are tested
    on the span's rows. None otherwise (``run`` answers)."""
    if not query.order or any(descending or ref.source != query.source.name for ref, descending in query.order):
        return None
    if any(c.ref.source != query.source.name or not _compares(c, kinds(c.ref.column))
           for c in conditions(query.where)):
        return None
    if any(not step.outer or indexed(tables[step.source.table], step.own.column)[1] for step in query.joins):
        return None
    order = ordered(tuple(ref.column for ref, _ in query.order))
    if order is None:
        return None
    start, stop, rest = _narrow(query.where, order, kinds, 0, len(order.keys))
    tested = []
    for conjunct in rest:
        if isinstance(conjunct, Either):
            start, stop, whole = _either(conjunct, order, kinds, start, stop)
            if whole:
                continue
        tested.append(conjunct)
    picked: Sequence[Row] = _Span(tables[query.table], order, start, stop)
    if tested:
        picked = _filter(replace(query, joins=(), where=tuple(tested)), picked[:])
    return Window(query, tables, picked, indexed, tz)


def _narrow(conjuncts: Sequence[Conjunct], order: Ordered, kinds: Callable[[str], Collection[type]], start: int,
            stop: int) -> tuple[int, int, list[Conjunct]]:
    """The span of ``order.keys[start:stop]`` the conditions on the order's columns keep, and the conjuncts left
    to test on its rows. A condition on the leading column, of the kind of its values, keeps a span; within the
    span an ``=`` keeps, the rows are in the order of the next column, so a condition on that one keeps a span
    too: ``a = x AND b > y`` of an order by ``a, b`` is found by bisection, not tested row by row."""
    rest = list(conjuncts)
    for at, column in enumerate(order.columns):
        fixed = False
        for condition in [c for c in rest if isinstance(c, Condition) and c.ref.column == column
                          and c.op in _SPANS and family(kinds(column)) is family((type(c.value),))]:
            start, stop = order.span(condition.op, condition.value, start, stop, at)
            rest.remove(condition)
            fixed = fixed or condition.op == "="
        if not fixed:
            break
    return start, stop, rest


def _either(either: Either, order: Ordered, kinds: Callable[[str], Collection[type]], start: int,
            stop: int) -> tuple[int, int, bool]:
    """The part of ``order.keys[start:stop]`` a disjunction's rows are in: from the first row to the last of the
    spans its options keep (``_narrow``); and whether it keeps every row there, when each option is its span and
    the spans leave no gap. A keyset page's ``a > x OR (a = x AND b > y)`` is then one span of the order by
    ``a, b``, not a test of every row after ``x``."""
    spans, whole = [], True
    for option in either.options:
        first, after, rest = _narrow(option, order, kinds, start, stop)
        if first < after:  # an option that keeps no row leaves no row to test
            spans.append((first, after))
            whole = whole and not rest
    if not spans:
        return start, start, True
    spans.sort()
    reach = spans[0][1]
    for first, after in spans[1:]:
        whole = whole and first <= reach
        reach = max(reach, after)
    return spans[0][0], reach, whole


class Results:
    """Evaluated queries by their text, each with the version of the tables it was computed from (joined ones
    too): paging through a result with limit/offset evaluates the query once, not once per page, while any change
    to one of its tables makes the next page evaluate it again (NetSuite's paging reads the tables as they are).
    The result of a paging that reached its end is dropped, and at most ``SIZE`` are held (the least recently
    used goes first)."""

    SIZE = 8

    def __init__(self) -> None:
        self._held: OrderedDict[str, tuple[Any, Sequence[dict[str, str]]]] = OrderedDict()

    def get(self, text: str, version: Any,
            evaluate: Callable[[], Sequence[dict[str, str]]]) -> Sequence[dict[str, str]]:
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
