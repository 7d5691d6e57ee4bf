"""The relay and the attempts work a batch at a time: the statements they run do not grow with the batch.

Against the Salesforce emulator over HTTP: accounts Salesforce created itself (updated by their id, the hub's
id stamped on them) and clients only the ERP holds (created in Salesforce, their new id written back).
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from canonical.models import Client, SourceRecord
from canonical.services.golden import golden_record_override_set, source_record_stage
from canonical.services.matching import source_record_match
from connectors.models import Delivery, DeliveryStatus, RelayCursor, Stream, Subscription
from connectors.salesforce.emulator import make_app
from connectors.services.inbound import stream_sync
from connectors.services.outbound import deliveries_attempt, outbox_relay
from tests.factories.canonical import ConnectedSystemFactory

EACH = 6


@pytest.fixture
def world(db, serve_wsgi, monkeypatch):
    """EACH golden clients read from Salesforce's own accounts and EACH only the ERP holds, each then renamed
    by a steward: ``(emulator, [(account golden, erp golden), ...])`` in the order they were renamed."""
    monkeypatch.setenv("SF_ID", "concord-demo")
    monkeypatch.setenv("SF_SECRET", "concord-demo-secret")
    emulator = make_app(seed=42, clients=EACH)
    crm = ConnectedSystemFactory(key="salesforce", kind="salesforce", base_url=serve_wsgi(emulator),
                                 config={"client_id_env": "SF_ID", "client_secret_env": "SF_SECRET"})
    stream_sync(stream=Stream.objects.create(system=crm, object_type="Account"))
    erp = ConnectedSystemFactory(key="netsuite", kind="netsuite")
    for i in range(EACH):
        name = f"Only In The Erp {i} Limited"
        source = source_record_stage(system=erp, object_type="customer", external_id=f"e{i}", entity_type="client",
                                     attributes={"legal_name": name, "country": "GB"}, payload={"id": i, "n": name},
                                     source_modified_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC)).source_record
        source_record_match(source_record=source)
    outbox_relay()  # what the world was made of is behind the relay before Salesforce subscribes
    Subscription.objects.create(system=crm, entity_type="client", object_type="Account",
                                fields=["legal_name", "display_name"])
    accounts = list(Client.objects.filter(pk__in=SourceRecord.objects.filter(system=crm).values("golden_record_id")))
    only_erp = list(Client.objects.exclude(pk__in=[c.pk for c in accounts]))
    assert len(accounts) == len(only_erp) == EACH
    pairs = list(zip(accounts, only_erp, strict=True))
    for account, erp_only in pairs:
        for client in (account, erp_only):
            golden_record_override_set(record=client, attribute="display_name", value=f"{client.legal_name} (renamed)",
                                       actor="steward", reason="checked")
    return emulator, crm, pairs


def counted(work):
    with CaptureQueriesContext(connection) as captured:
        work()
    return len(captured.captured_queries)


def test_relaying_a_batch_runs_the_same_statements_whatever_its_size(world):
    relayed = [counted(lambda: outbox_relay(limit=2)), counted(lambda: outbox_relay(limit=2 * EACH - 2))]

    assert relayed[0] == relayed[1]
    assert Delivery.objects.count() == 2 * EACH


def test_attempting_a_batch_runs_the_same_statements_whatever_its_size(world):
    emulator, crm, pairs = world
    accounts = len(emulator.store["Account"])
    outbox_relay()
    small, large = ([str(pk) for pk in Delivery.objects.filter(record_id__in=[c.pk for pair in part for c in pair])
                     .values_list("pk", flat=True)] for part in (pairs[:1], pairs[1:]))

    attempted = [counted(lambda batch=batch: deliveries_attempt(delivery_ids=batch)) for batch in (small, large)]

    assert attempted[0] == attempted[1]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert len(emulator.store["Account"]) == accounts + EACH  # an account for each client only the ERP held
    for account, erp_only in pairs:
        for client in (account, erp_only):
            held = [a for a in emulator.store["Account"].values() if a.get("Hub_Id__c") == client.golden_id]
            assert [a["Name"] for a in held] == [f"{client.legal_name} (renamed)"]
            (copy,) = SourceRecord.objects.filter(system=crm, golden_record_id=client.pk)
            assert (copy.external_id, copy.payload["hub_id"]) == (held[0]["Id"], client.golden_id)


def test_a_relay_going_over_changes_already_relayed_makes_no_second_delivery(world):
    start = RelayCursor.objects.get().position
    first = outbox_relay()
    RelayCursor.objects.update(position=start)  # as if the relay that made them had not recorded how far it went

    again = outbox_relay()

    assert (first, again) == (2 * EACH, 0)
    assert Delivery.objects.count() == 2 * EACH


def test_an_older_version_in_the_same_batch_as_a_newer_one_is_superseded_and_never_sent(world):
    emulator, _, pairs = world
    client = pairs[0][1]
    golden_record_override_set(record=client, attribute="display_name", value="Renamed Again", actor="steward",
                               reason="checked")
    outbox_relay()
    batch = [str(pk) for pk in Delivery.objects.filter(record_id=client.pk).values_list("pk", flat=True)]

    deliveries_attempt(delivery_ids=batch)

    assert dict(Delivery.objects.filter(record_id=client.pk).values_list("version", "status")) == {
        2: DeliveryStatus.SUPERSEDED, 3: DeliveryStatus.DELIVERED}
    sent = emulator.requests_to("PATCH", "/services/data/v62.0/composite")[-1].body["records"]
    assert [r["Name"] for r in sent] == ["Renamed Again"]
