"""A SuiteQL WHERE clause: the conditions it is made of, and how a row is tested against them.

The clause is parsed (in ``suiteql``) by::

    expr   := term (OR term)*
    term   := factor (AND factor)*
    factor := '(' expr ')' | <ref> <op> <value>

so AND binds tighter than OR, as in Oracle. It is kept as a conjunction: a tuple whose items are each a
``Condition`` or an ``Either`` (a disjunction, each of its options a conjunction again). Most queries are a plain
conjunction of conditions, which is what the fast paths read (a condition on the leading ORDER BY column keeps a
span of the rows kept in that order; those on the FROM table's columns are tested before a join): a disjunction
is one more conjunct to them, tested row by row unless they can tell better.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.netsuite.emulator.responses import search_error

OPS: dict[str, Callable[[Any, Any], bool]] = {">=": operator.ge, ">": operator.gt, "<=": operator.le,
                                              "<": operator.lt, "=": operator.eq, "!=": operator.ne,
                                              "<>": operator.ne}


@dataclass(frozen=True)
class Ref:
    """A column of one of the query's tables, by that table's name in the query (its alias, or the table name
    when it has none); while parsing, ``source`` is the qualifier as written ("" for none)."""

    source: str
    column: str


@dataclass(frozen=True)
class Condition:
    ref: Ref
    op: str
    value: Any  # int, str, or datetime (TO_DATE, account-local converted to UTC)


@dataclass(frozen=True)
class Either:
    """``a OR b OR ...``: a row is kept when it meets every conjunct of one of the options (none nests an Either
    of one option: the parser makes that option's conjuncts part of the conjunction it is in)."""

    options: tuple[tuple[Conjunct, ...], ...]


Conjunct = Condition | Either
#: How to read a column from a row the query runs over (a table's row, or a joined row's tuple).
Reader = Callable[[Ref], Callable[[Any], Any]]


def conditions(conjuncts: Iterable[Conjunct]) -> Iterator[Condition]:
    """Every condition of a conjunction, those in its disjunctions too, in the order they are written."""
    for conjunct in conjuncts:
        if isinstance(conjunct, Either):
            for option in conjunct.options:
                yield from conditions(option)
        else:
            yield conjunct


def refs(conjuncts: Iterable[Conjunct]) -> Iterator[Ref]:
    """Every column a conjunction names."""
    return (condition.ref for condition in conditions(conjuncts))


def tester(conjuncts: Iterable[Conjunct], read: Reader) -> Callable[[Any], bool]:
    """Whether a row meets every conjunct: tested in the order written, up to the first it does not meet (so
    a comparison that cannot be made is a search error only at a row that gets that far, as NetSuite's is)."""
    tests = [_disjunction(c, read) if isinstance(c, Either) else _condition(c, read) for c in conjuncts]
    if len(tests) == 1:
        return tests[0]

    def keep(row: Any) -> bool:
        for test in tests:
            if not test(row):
                return False
        return True

    return keep


def _disjunction(either: Either, read: Reader) -> Callable[[Any], bool]:
    options = [tester(option, read) for option in either.options]
    return lambda row: any(option(row) for option in options)


def _condition(condition: Condition, read: Reader) -> Callable[[Any], bool]:
    """A condition's test: an empty column (NULL) meets none; against a number, a text column is read as a number
    (and one that is not meets none); values that do not compare are a search error."""
    get, op, wanted = read(condition.ref), OPS[condition.op], condition.value
    numeric = isinstance(wanted, int)

    def test(row: Any) -> bool:
        value = get(row)
        if value is None:
            return False
        if numeric and not isinstance(value, int | datetime):
            try:
                value = int(value)
            except ValueError:
                return False
        try:
            return bool(op(value, wanted))
        except TypeError:
            raise search_error(f"Cannot compare field '{condition.ref.column}' with the given value.") from None

    return test
