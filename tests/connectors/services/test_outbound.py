"""Outbound through the Salesforce emulator over HTTP: relay, upsert by the hub's id, id write-back,
retries, dead letters and replay, per-target ordering, and no loop when the change is read back."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from canonical.models import Client, MatchDecision, MatchRecord, SourceRecord
from canonical.services.golden import golden_record_recompute, source_record_stage
from canonical.services.matching import match_preview, source_record_match
from connectors.models import Delivery, DeliveryStatus, Subscription
from connectors.salesforce.emulator import make_app
from connectors.services.inbound import stream_sync
from connectors.services.outbound import MAX_ATTEMPTS, deliveries_due, delivery_attempt, outbox_relay
from connectors.services.streams import streams_ensure
from tests.factories.canonical import ConnectedSystemFactory

T0 = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


@pytest.fixture
def salesforce(db, serve_wsgi, monkeypatch):
    monkeypatch.setenv("SF_ID", "concord-demo")
    monkeypatch.setenv("SF_SECRET", "concord-demo-secret")
    emulator = make_app(seed=42, clients=2)
    system = ConnectedSystemFactory(key="salesforce", kind="salesforce", base_url=serve_wsgi(emulator),
                                    config={"client_id_env": "SF_ID", "client_secret_env": "SF_SECRET"})
    Subscription.objects.create(system=system, entity_type="client", object_type="Account",
                                fields=["legal_name", "display_name", "country", "website_domain"])
    return emulator, system


def erp_client(name="Wingtip Toys Limited", external_id="9001"):
    erp = ConnectedSystemFactory(key="netsuite", kind="netsuite")
    source = source_record_stage(system=erp, object_type="customer", external_id=external_id, entity_type="client",
                                 attributes={"legal_name": name, "country": "GB", "website_domain": "wingtip.co.uk"},
                                 payload={"id": external_id, "name": name}, source_modified_at=T0).source_record
    source_record_match(source_record=source)
    source.refresh_from_db()
    return Client.objects.get(pk=source.golden_record_id), source


def found_by(source):
    """The golden record matching found for a source record: the one it joined, or the one it resembles."""
    decision = MatchDecision.objects.filter(source_record=source).latest("created_at")
    return decision.candidate_golden_id or decision.golden_record_id


def deliver_all():
    return [delivery_attempt(delivery_id=i) for i in deliveries_due()]


def hub_accounts(emulator):
    return {r["Hub_Id__c"]: r for r in emulator.store["Account"].values() if r.get("Hub_Id__c")}


def test_a_new_client_is_upserted_once_and_its_salesforce_id_written_back(salesforce):
    emulator, system = salesforce
    client, _ = erp_client()

    relayed, again = outbox_relay(), outbox_relay()
    delivered = deliver_all()
    deliver_all()

    account = hub_accounts(emulator)[client.golden_id]
    assert (relayed, again) == (1, 0)
    assert [d.status for d in delivered] == [DeliveryStatus.DELIVERED]
    assert account["Name"] == "Wingtip Toys Limited" or account.get("Legal_Name__c") == "Wingtip Toys Limited"
    assert len(emulator.requests_to("PATCH", "/services/data/v62.0/composite")) == 1
    crosswalk = SourceRecord.objects.get(system=system, external_id=account["Id"])
    assert crosswalk.golden_record_id == client.pk


def test_reading_back_what_the_hub_wrote_changes_nothing_and_sends_nothing(salesforce):
    emulator, system = salesforce
    client, _ = erp_client()
    outbox_relay()
    deliver_all()
    version = Client.objects.get(pk=client.pk).version

    for stream in streams_ensure(system=system):
        stream_sync(stream=stream)
    relayed = outbox_relay()

    assert Client.objects.get(pk=client.pk).version == version
    assert relayed == 0
    assert Delivery.objects.count() == 1


def delivered(system):
    """A client made from an ERP record and delivered to Salesforce: (the client, its ERP copy, the copy written)."""
    client, origin = erp_client()
    outbox_relay()
    deliver_all()
    return client, origin, SourceRecord.objects.get(system=system, golden_record_id=client.pk)


def arrived(system, object_type, external_id, attributes):
    """A record of the platform staged and matched as a pull would."""
    source = source_record_stage(system=system, object_type=object_type, external_id=external_id,
                                 entity_type="client", attributes=attributes, payload={"id": external_id},
                                 source_modified_at=T0).source_record
    source_record_match(source_record=source)
    return source


def test_the_copy_the_hub_wrote_is_matchable_and_reading_it_back_rewrites_nothing_of_its_golden_record(salesforce):
    emulator, system = salesforce
    client, origin, copy = delivered(system)
    # The copy holds the golden record's own values: the view of the copy it was made from stands for it.
    assert not MatchRecord.objects.filter(pk=copy.pk).exists()
    assert MatchRecord.objects.get(pk=origin.pk).golden_record_id == client.pk
    history = client.history.count()

    for stream in streams_ensure(system=system):
        stream_sync(stream=stream)
    copy.refresh_from_db()
    twin = arrived(origin.system, "customer", "9002", origin.attributes)

    assert copy.payload["Hub_Id__c"] == client.golden_id  # the platform's own copy of the record now
    assert client.history.count() == history
    assert found_by(twin) == client.pk  # matchable: a third copy of the client finds its golden record


def test_a_golden_record_left_with_only_the_copy_the_hub_wrote_is_still_found(salesforce):
    from canonical.services.merge import source_record_unmerge

    emulator, system = salesforce
    client, origin, copy = delivered(system)
    assert not MatchRecord.objects.filter(pk=copy.pk).exists()

    moved = source_record_unmerge(source_record=origin, actor="steward", reason="not this client")
    view = MatchRecord.objects.get(pk=copy.pk)  # viewed now: it alone stands for its golden record
    preview = match_preview(entity_type="client", values=view.values)

    assert view.golden_record_id == client.pk
    assert MatchRecord.objects.get(pk=origin.pk).golden_record_id == moved.pk
    # A record like them finds both: the client by its copy's view, the other by the view of the copy moved out.
    assert {scored.golden_record_id for scored in preview.ranked} == {client.pk, moved.pk}


def test_failures_retry_then_dead_letter_then_replay_delivers(salesforce):
    emulator, _ = salesforce
    client, _ = erp_client()
    outbox_relay()
    emulator.faults.inject("unavailable", times=MAX_ATTEMPTS)

    for _ in range(MAX_ATTEMPTS):
        Delivery.objects.update(next_attempt_at=dt.datetime.now(dt.UTC))
        deliver_all()
    dead = Delivery.objects.get()
    out = StringIO()
    call_command("replay", "--system", "salesforce", stdout=out)
    deliver_all()

    assert (dead.status, dead.attempts) == (DeliveryStatus.DEAD, MAX_ATTEMPTS)
    assert "503" in dead.last_error
    assert out.getvalue().strip() == "1 dead letter(s) replayed"
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
    assert client.golden_id in hub_accounts(emulator)


def test_an_older_version_never_overwrites_a_newer_one(salesforce):
    emulator, _ = salesforce
    client, source = erp_client()
    source_record_stage(system=source.system, object_type="customer", external_id="9001", entity_type="client",
                        attributes={"legal_name": "Wingtip Toys Group Limited", "country": "GB",
                                    "website_domain": "wingtip.co.uk"},
                        payload={"id": "9001", "v": 2}, source_modified_at=T0 + dt.timedelta(hours=1))
    golden_record_recompute(record=client, reason="renamed")
    outbox_relay()

    results = {d.version: d.status for d in deliver_all()}

    assert results == {1: DeliveryStatus.SUPERSEDED, 2: DeliveryStatus.DELIVERED}
    account = hub_accounts(emulator)[client.golden_id]
    assert "Wingtip Toys Group" in (account.get("Legal_Name__c") or account["Name"])


def test_replay_needs_a_target(db):
    with pytest.raises(Exception, match="name delivery ids"):
        call_command("replay")


def test_a_re_match_sees_the_copies_the_hub_wrote(salesforce):
    from canonical.services.rematch import entity_rematch

    emulator, system = salesforce
    client, _, copy = delivered(system)

    report = entity_rematch(entity_type="client")

    assert report.records == 2  # the copy is re-matched by its own view, as every source record is
    assert MatchRecord.objects.get(pk=copy.pk).golden_record_id == client.pk
