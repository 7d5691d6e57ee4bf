"""What keeps the emulator fast at scale without changing its answers: ``eid:`` lookups through an index that
follows every change to the records, internal ids from a sequence, and SuiteQL evaluated once per paging."""

import pytest

from connectors.errors import Rejected
from connectors.netsuite.client import NetSuiteClient
from connectors.netsuite.emulator import Emulator, handlers

QUERY = "SELECT id, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS lastmodified FROM customer " \
        "ORDER BY lastmodifieddate, id"


def _eid(client: NetSuiteClient, external_id: str) -> str | None:
    try:
        return client.get("customer", f"eid:{external_id}")["id"]
    except Rejected as exc:
        assert exc.status == 404
        return None


def test_eid_lookups_follow_every_change_to_the_records(client: NetSuiteClient, emulator: Emulator,
                                                         customer_id: str) -> None:
    customers = emulator.store["customer"]
    template = customers[customer_id]
    customers["90001"] = {**template, "id": "90001", "externalId": "HUB-SET"}  # records a script put there
    customers.update({"90002": {**template, "id": "90002", "externalId": "HUB-UPDATED"}})
    assert (_eid(client, "HUB-SET"), _eid(client, "HUB-UPDATED")) == ("90001", "90002")

    client.update("customer", "90001", {"externalId": "HUB-MOVED"})
    assert (_eid(client, "HUB-SET"), _eid(client, "HUB-MOVED")) == (None, "90001")
    assert client.upsert("customer", "HUB-SET", {"companyName": "Set again"}) not in ("90001", "90002")

    emulator.delete("customer", "90001")
    del customers["90002"]
    assert (_eid(client, "HUB-MOVED"), _eid(client, "HUB-UPDATED")) == (None, None)
    with pytest.raises(Rejected) as taken:
        client.update("customer", customer_id, {"externalId": "HUB-SET"})
    assert taken.value.body["o:errorDetails"][0]["o:errorCode"] == "USER_ERROR"


def test_internal_ids_are_never_handed_out_twice(client: NetSuiteClient, emulator: Emulator,
                                                 customer_id: str) -> None:
    customers = emulator.store["customer"]
    customers["95000"] = {**customers[customer_id], "id": "95000"}
    first = client.upsert("customer", "HUB-A", {"companyName": "A"})
    emulator.delete("customer", first)
    second = client.upsert("customer", "HUB-B", {"companyName": "B"})
    assert (first, second) == ("95001", "95002")


def test_paging_evaluates_a_query_once_until_the_table_changes(client: NetSuiteClient, emulator: Emulator,
                                                               monkeypatch) -> None:
    evaluations = []
    evaluate = handlers._evaluate
    monkeypatch.setattr(handlers, "_evaluate", lambda *args: evaluations.append(1) or evaluate(*args))

    pages = [client.suiteql(QUERY, limit=10, offset=offset) for offset in (0, 10, 20)]
    assert len(evaluations) == 1
    moved = pages[0]["items"][0]["id"]
    emulator.touch("customer", moved, companyName="Edited")  # now the most recently modified
    pages += [client.suiteql(QUERY, limit=10, offset=offset) for offset in (30, 40)]
    assert len(evaluations) == 2 and pages[-1]["items"][-1]["id"] == moved and not pages[-1]["hasMore"]

    client.suiteql(QUERY, limit=10, offset=0)  # the paging above ended: a new one evaluates anew
    assert len(evaluations) == 3
