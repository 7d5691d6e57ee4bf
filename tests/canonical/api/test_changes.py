"""The change feed: commit order, scopes, and no change skipped when transactions commit out of order."""

import threading

import pytest
from django.db import connection, transaction

from canonical.services.changes import change_event_record, change_events_sequence
from hub.api import scopes
from tests.factories.canonical import ClientFactory, ContractFactory, EngagementFactory


def _record_change(record, reason: str = "test") -> None:
    with transaction.atomic():
        record.version += 1
        record.save()
        change_event_record(record=record, operation="updated", changed_fields=["version"], reason=reason)


def _poll_all(api, after: str = "0", **params) -> tuple[list[dict], str]:
    seen = []
    while True:
        body = api.get("/api/v1/changes/", {"after": after, **params}).json()
        seen += body["results"]
        after = body["next_cursor"]
        if not body["has_more"]:
            return seen, after


def test_feed_returns_changes_in_order_and_resumes_from_cursor(api):
    client, engagement = ClientFactory(), EngagementFactory()
    _record_change(client, "first")
    _record_change(engagement, "second")

    first_page = api.get("/api/v1/changes/", {"limit": 1}).json()
    rest, cursor = _poll_all(api, first_page["next_cursor"])
    _record_change(client, "third")
    later, _ = _poll_all(api, cursor)

    assert [e["reason"] for e in first_page["results"]] == ["first"]
    assert first_page["has_more"] is True
    assert [e["reason"] for e in rest] == ["second"]
    assert [(e["reason"], e["golden_id"], e["version"]) for e in later] == [("third", client.golden_id, 3)]
    assert later[0]["data"]["legal_name"] == client.legal_name


def test_feed_only_shows_entity_types_in_scope(make_api_client):
    _record_change(ClientFactory(), "client change")
    _record_change(ContractFactory(), "contract change")
    contracts_only = make_api_client(scopes.READ_CONTRACTS)

    seen, _ = _poll_all(contracts_only)
    forbidden = contracts_only.get("/api/v1/changes/", {"entity_type": "client"})
    glossary_only = make_api_client(scopes.READ_GLOSSARY).get("/api/v1/changes/")

    assert [e["reason"] for e in seen] == ["contract change"]
    assert forbidden.status_code == 403
    assert glossary_only.status_code == 403


@pytest.mark.parametrize("params", [{"after": "abc"}, {"after": "-1"}, {"limit": "0"}, {"limit": "5000"},
                                    {"entity_type": "planet"}])
def test_bad_feed_parameters_are_400(api, params):
    response = api.get("/api/v1/changes/", params)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == list(params)


@pytest.mark.django_db(transaction=True)
def test_a_transaction_committing_late_is_not_skipped(api):
    """T1 writes first (lower id) but commits after T2; a poller between the commits must still see T1."""
    early, late = ClientFactory(legal_name="Early Ltd"), ClientFactory(legal_name="Late Ltd")
    t1_written, release_t1 = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                early.version += 1
                early.save()
                change_event_record(record=early, operation="updated", changed_fields=["version"], reason="T1")
                t1_written.set()
                release_t1.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    t1_written.wait(10)
    _record_change(late, "T2")  # commits while T1 is still open

    during, cursor = _poll_all(api)
    release_t1.set()
    thread.join(10)
    after, _ = _poll_all(api, cursor)

    assert [e["reason"] for e in during] == ["T2"]
    assert [e["reason"] for e in after] == ["T1"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_a_poller_see_every_change_exactly_once(api):
    records = [ClientFactory() for _ in range(4)]
    writes_per_writer = 15
    done = threading.Event()
    seen: list[dict] = []

    def writer(record):
        try:
            for _ in range(writes_per_writer):
                _record_change(record)
        finally:
            connection.close()

    def poller():
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"])
        cursor = "0"
        try:
            while True:
                finished = done.is_set()
                batch, cursor = _poll_all(client, cursor)
                seen.extend(batch)
                if finished:
                    return
        finally:
            connection.close()

    writers = [threading.Thread(target=writer, args=(r,)) for r in records]
    poll = threading.Thread(target=poller)
    poll.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
    done.set()
    poll.join(60)

    keys = [(e["golden_id"], e["version"]) for e in seen]
    assert len(keys) == len(set(keys)) == len(records) * writes_per_writer
    for record in records:
        versions = [v for g, v in keys if g == record.golden_id]
        assert versions == list(range(2, 2 + writes_per_writer))  # each record's changes in order
    positions = [e["position"] for e in seen]
    assert positions == sorted(positions)


def test_sequencer_is_idempotent(db):
    _record_change(ClientFactory())

    assert change_events_sequence() == 1
    assert change_events_sequence() == 0
