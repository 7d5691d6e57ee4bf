"""SuiteQL WHERE clauses with OR and parentheses: how they parse (AND binds tighter than OR), what they keep
through the client, with the same per-condition rules as a conjunction, and NetSuite's errors for what does not
parse or names a column the table does not have."""

from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest

from connectors.errors import Rejected
from connectors.netsuite.client import NetSuiteClient
from connectors.netsuite.emulator import Emulator, suiteql
from connectors.netsuite.emulator.where import Condition, Either, Ref
from tests.connectors.netsuite.test_suiteql_joins import _address, _billing

Record = dict[str, Any]


def _where(clause: str) -> tuple[Any, ...]:
    return suiteql.parse(f"SELECT id FROM customer WHERE {clause}", UTC).where  # noqa: S608


def _is(column: str, value: int) -> Condition:
    return Condition(Ref("customer", column), "=", value)


A, B, C, D, E = (_is(column, 1) for column in "abcde")
LEFT_JOIN = "SELECT c.id, b.city FROM customer c LEFT JOIN entityaddress b ON b.nkey = c.defaultbillingaddress"


@pytest.mark.parametrize(("clause", "where"), [
    ("a = 1 AND b = 1", (A, B)),
    ("a = 1 OR b = 1", (Either(((A,), (B,))),)),
    ("a = 1 OR b = 1 AND c = 1", (Either(((A,), (B, C))),)),  # AND first
    ("a = 1 AND b = 1 OR c = 1", (Either(((A, B), (C,))),)),
    ("(a = 1 OR b = 1) AND c = 1", (Either(((A,), (B,))), C)),
    ("a = 1 AND (b = 1 OR c = 1) AND d = 1", (A, Either(((B,), (C,))), D)),
    ("((a = 1)) AND (b = 1 AND (c = 1))", (A, B, C)),  # a parenthesised conjunction is part of the one it is in
    ("a = 1 OR (b = 1 OR (c = 1 OR d = 1))", (Either(((A,), (B,), (C,), (D,))),)),
    ("(a = 1 OR b = 1) OR c = 1 AND (d = 1 OR e = 1)", (Either(((A,), (B,), (C, Either(((D,), (E,)))))),)),
    ("(a = 1 OR b = 1) AND (c = 1 OR d = 1)", (Either(((A,), (B,))), Either(((C,), (D,))))),
])
def test_and_binds_tighter_than_or_and_parentheses_group(clause: str, where: tuple[Any, ...]) -> None:
    assert _where(clause) == where
    assert _where(clause.replace(" AND ", " and ").replace(" OR ", " or ")) == where


def _ids(emulator: Emulator, keep: Callable[[int, Record], bool]) -> list[str]:
    return [i for i in sorted(emulator.store["customer"], key=int) if keep(int(i), emulator.store["customer"][i])]


def _parent(record: Record) -> int | None:
    return int(record["parent"]["id"]) if record.get("parent") else None


@pytest.mark.parametrize(("clause", "keep"), [
    ("id = {0} OR id = {3}", lambda i, r, ids: i in (ids[0], ids[3])),
    ("id = {0} OR id >= {40} AND companyname = 'Tied Ltd'",
     lambda i, r, ids: i == ids[0] or (i >= ids[40] and r["companyName"] == "Tied Ltd")),
    ("(id = {0} OR id >= {40}) AND companyname = 'Tied Ltd'",
     lambda i, r, ids: (i == ids[0] or i >= ids[40]) and r["companyName"] == "Tied Ltd"),
    ("id < {5} AND (companyname = 'Tied Ltd' OR (id > {1} AND id <= {3}))",
     lambda i, r, ids: i < ids[5] and (r["companyName"] == "Tied Ltd" or ids[1] < i <= ids[3])),
    # An empty column meets no condition, in an option as anywhere (and a number reads a text column as one).
    ("parent > 0 OR id = {0}", lambda i, r, ids: (_parent(r) or 0) > 0 or i == ids[0]),
    ("parent = {p} OR (parent <> {p} AND id < {10})",
     lambda i, r, ids: _parent(r) == ids[-1] or (_parent(r) not in (None, ids[-1]) and i < ids[10])),
    ("companyname = 'Nobody' OR companyname = 'Nobody else'", lambda i, r, ids: False),
])
def test_or_keeps_the_rows_one_of_its_terms_keeps(client: NetSuiteClient, emulator: Emulator, clause: str,
                                                   keep: Callable[[int, Record, list[int]], bool]) -> None:
    customers = emulator.store["customer"]
    ids = sorted(int(i) for i in customers)
    for record_id in [str(i) for i in ids[2::7]] + [str(ids[41])]:
        emulator.touch("customer", record_id, companyName="Tied Ltd")
    parented = [i for i in map(str, ids[10:]) if customers[i].get("parent")][:3]
    for record_id in parented:  # a few children of the last customer
        emulator.touch("customer", record_id, parent={"id": str(ids[-1])})
    query = f"SELECT id FROM customer WHERE {clause.format(*ids, p=ids[-1])} ORDER BY id"  # noqa: S608

    got = [item["id"] for item in client.suiteql(query)["items"]]

    assert got == _ids(emulator, lambda i, r: keep(i, r, ids))
    assert got or "Nobody" in clause


def test_or_across_joined_tables(client: NetSuiteClient, emulator: Emulator) -> None:
    """A disjunction naming a joined table's column is tested on the joined rows (not before the join)."""
    ids = sorted(emulator.store["customer"], key=int)
    emulator.touch("customer", ids[4], addressBook={"items": [_address("Leeds", defaultBilling=True)]})
    emulator.touch("customer", ids[5], addressBook={"items": []})
    where = f"c.id >= {ids[3]} AND (b.city = 'Leeds' OR c.id <= {ids[6]})"
    query = f"{LEFT_JOIN} WHERE {where} ORDER BY c.id"

    items = client.suiteql(query)["items"]

    customers = emulator.store["customer"]
    expected = [i for i in ids[3:] if _billing(customers[i]).get("city") == "Leeds" or int(i) <= int(ids[6])]
    assert [item["id"] for item in items] == expected
    assert items[1] == {"links": [], "id": ids[4], "city": "Leeds"} and items[2] == {"links": [], "id": ids[5]}


def _rejected(client: NetSuiteClient, query: str) -> str:
    with pytest.raises(Rejected) as caught:
        client.suiteql(query)
    body = caught.value.body
    assert (body["status"], body["o:errorDetails"][0]["o:errorCode"]) == (400, "INVALID_PARAMETER")
    detail = body["o:errorDetails"][0]["detail"]
    assert detail.startswith("Invalid search query.")
    return detail


@pytest.mark.parametrize(("clause", "named"), [
    ("id = 1 OR nosuchcolumn = 2", "Field 'nosuchcolumn' for record 'customer'"),
    ("id = 1 AND (companyname = 'x' OR (id > 2 AND nosuchcolumn = 3))", "Field 'nosuchcolumn'"),
    ("(b.nosuchcolumn = 'x' OR id = 1)", "Field 'nosuchcolumn' for record 'entityaddress'"),
    ("id = 1 OR d.city = 'x'", "Unknown table or alias 'd'"),
])
def test_an_unknown_column_inside_or_is_refused(client: NetSuiteClient, clause: str, named: str) -> None:
    assert named in _rejected(client, f"{LEFT_JOIN.replace('c.', 'customer.').replace(' c ', ' customer ')} "
                                      f"WHERE {clause}")


@pytest.mark.parametrize(("clause", "near"), [
    ("(id = 1", "Expected ) near 'end of query'"),
    ("(id = 1 OR id = 2 ORDER BY id", "Expected ) near 'ORDER'"),
    ("id = 1) ORDER BY id", "near ')'"),
    ("((id = 1) OR id = 2))", "near ')'"),
    ("id = 1 OR", "near 'end of query'"),
    ("id = 1 OR ORDER BY id", "Syntax error"),
    ("id = 1 AND OR id = 2", "Syntax error"),
    ("OR id = 1", "Syntax error"),
    ("()", "near ')'"),
    ("(id = 1 OR)", "near ')'"),
    ("id = 1 OR (id = 2 AND)", "near ')'"),
    ("id (= 1)", "Unsupported operator '('"),
])
def test_unbalanced_parentheses_or_a_dangling_or_is_a_syntax_error(client: NetSuiteClient, clause: str,
                                                                    near: str) -> None:
    assert near in _rejected(client, f"SELECT id FROM customer WHERE {clause}")  # noqa: S608


def test_a_comparison_inside_or_that_cannot_be_made_is_a_search_error(client: NetSuiteClient,
                                                                      customer_id: str) -> None:
    """Tested as a conjunction is, in the order written, up to the first term a row meets: a row that meets the
    first term is kept without the second being tried."""
    bad = "companyname >= TO_DATE('2026-01-01', 'YYYY-MM-DD')"
    detail = _rejected(client, f"SELECT id FROM customer WHERE id = {customer_id} OR {bad}")  # noqa: S608
    assert "Cannot compare field 'companyname'" in detail
    assert len(client.suiteql(f"SELECT id FROM customer WHERE id > 0 OR {bad}")["items"]) == 50  # noqa: S608
