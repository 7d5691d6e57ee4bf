"""A delivery into a platform the hub has not read yet waits for that platform's first pull: written earlier,
it would create a second copy of a record the platform already holds but the hub has not seen. Once the pull has
read the platform through, only the deliveries its placement may still change wait for it."""

import datetime as dt

from django.utils import timezone

from canonical.models import Client, SourceRecord
from canonical.services.golden import source_record_stage
from canonical.services.landing import landed_sources_place
from canonical.services.matching import source_record_match
from connectors.models import Delivery, DeliveryStatus, Stream, Subscription, SyncRun
from connectors.services.inbound import connector_for, stream_page_apply, stream_sync
from connectors.services.outbound import deliveries_drain, deliveries_due, delivery_attempt, outbox_relay
from connectors.services.streams import streams_ensure
from tests.factories.canonical import ConnectedSystemFactory


def test_a_delivery_waits_for_the_first_pull_and_then_finds_the_platform_s_own_record(salesforce_target):
    emulator, system, _ = salesforce_target
    account_id, account = next(iter(emulator.store["Account"].items()))
    accounts_before = len(emulator.store["Account"])
    erp = ConnectedSystemFactory(key="netsuite", kind="netsuite")
    # the ERP's copy of a client the CRM also holds (the same values), arriving before the CRM was ever read
    same = dict(connector_for(system).parse_record("Account", account).attributes)
    staged = source_record_stage(system=erp, object_type="customer", external_id="1", entity_type="client",
                                 attributes=same, payload={"id": "1", **same},
                                 source_modified_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).source_record
    source_record_match(source_record=staged)
    streams = streams_ensure(system=system)
    outbox_relay()

    due_while_unread = deliveries_due()
    held = [delivery_attempt(delivery_id=str(i)) for i in Delivery.objects.values_list("pk", flat=True)]
    attempts_while_held = list(Delivery.objects.values_list("attempts", flat=True))
    for stream in streams:
        stream_sync(stream=stream)
    outbox_relay()
    for delivery_id in deliveries_due():
        delivery_attempt(delivery_id=delivery_id)

    # not offered while the platform is unread, refused if asked all the same; waiting spends no attempt
    assert due_while_unread == [] and held == [None] and attempts_while_held == [0]
    assert not Delivery.objects.filter(status=DeliveryStatus.DEAD).exists()
    golden = Client.objects.get(pk=staged.golden_record_id)
    crm_copies = SourceRecord.objects.filter(system=system, golden_record_id=golden.pk, is_deleted=False)
    assert len(emulator.store["Account"]) == accounts_before  # no second account
    assert list(crm_copies.values_list("external_id", flat=True)) == [account_id]


def test_a_delivery_overtaken_by_the_platform_s_own_copy_is_superseded_not_sent(netsuite_target):
    emulator, system = netsuite_target
    # given the ERP's own customer, not read yet (it bills the client: its legal name wins)
    customer_id = emulator.create("customer", {
        "companyName": "Fabrikam Holdings Ltd", "vatRegNumber": "GB980780684", "isInactive": False,
        "addressBook": {"items": [{"defaultBilling": True, "addressBookAddress": {"country": {"id": "GB"}}}]}})
    # and the CRM's copy of the same client, placed first: its golden record goes out to the ERP (held)
    crm = ConnectedSystemFactory(key="salesforce", kind="salesforce")
    staged = source_record_stage(system=crm, object_type="Account", external_id="001F", entity_type="client",
                                 attributes={"legal_name": "Fabrikam Holdings Limited", "tax_id": "GB980780684",
                                             "country": "GB"},
                                 payload={"Id": "001F"}, source_modified_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    source_record_match(source_record=staged.source_record)
    outbox_relay()
    held = list(Delivery.objects.values_list("version", flat=True))

    # when the ERP is read (its copy joins the golden record, which takes its legal name), and the hub delivers
    for stream in streams_ensure(system=system):
        stream_sync(stream=stream)
    outbox_relay()
    for delivery_id in deliveries_due():
        delivery_attempt(delivery_id=delivery_id)

    # then the held delivery of the CRM's values was not sent: the ERP keeps its own, which the golden record has
    golden = Client.objects.get(pk=staged.source_record.golden_record_id)
    assert held == [1] and golden.legal_name == "Fabrikam Holdings Ltd" and golden.version > 1
    assert emulator.store["customer"][customer_id]["companyName"] == "Fabrikam Holdings Ltd"
    assert list(Delivery.objects.values_list("status", flat=True)) == [DeliveryStatus.SUPERSEDED]


def test_while_a_first_pull_is_placed_only_the_deliveries_it_may_still_change_wait(netsuite_target):
    emulator, system = netsuite_target
    # the ERP's own customer, read through by its first pull and landed, not placed yet
    erp_copy = emulator.create("customer", {
        "companyName": "Fabrikam Holdings Ltd", "vatRegNumber": "GB980780684", "isInactive": False,
        "addressBook": {"items": [{"defaultBilling": True, "addressBookAddress": {"country": {"id": "GB"}}}]}})
    stream = next(s for s in streams_ensure(system=system) if s.object_type == "customer")
    run = SyncRun.objects.create(stream=stream)
    for page in connector_for(system).read_changes("customer", None):
        stream_page_apply(stream=stream, page=page, run=run, land=True)
    Stream.objects.filter(pk=stream.pk).update(read_through_at=timezone.now())
    customers_before = set(emulator.store["customer"])
    # the CRM's copy of that client (the same tax id), and of another client the ERP does not hold
    crm = ConnectedSystemFactory(key="salesforce", kind="salesforce")
    goldens = {}
    for external_id, name, tax_id in [("001F", "Fabrikam Holdings Limited", "GB980780684"),
                                      ("001N", "Northwind Traders Limited", "GB123456782")]:
        staged = source_record_stage(system=crm, object_type="Account", external_id=external_id, entity_type="client",
                                     attributes={"legal_name": name, "tax_id": tax_id, "country": "GB"},
                                     payload={"Id": external_id},
                                     source_modified_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).source_record
        source_record_match(source_record=staged)
        goldens[external_id] = staged.golden_record_id
    outbox_relay()
    subscription = Subscription.objects.get(system=system)

    deliveries_drain(subscription_id=subscription.pk)

    # the client the ERP does not hold is written; the one its landed copy may still join waits, no attempt spent
    fabrikam = Delivery.objects.get(record_id=goldens["001F"])
    assert Delivery.objects.get(record_id=goldens["001N"]).status == DeliveryStatus.DELIVERED
    assert (fabrikam.status, fabrikam.attempts) == (DeliveryStatus.PENDING, 0)
    assert fabrikam.next_attempt_at > timezone.now()
    created = set(emulator.store["customer"]) - customers_before
    assert [emulator.store["customer"][i]["companyName"] for i in created] == ["Northwind Traders Limited"]

    # once placed (the ERP's copy joins the CRM's), the waiting delivery goes, to that copy: no second customer
    landed_sources_place(entity_type="client", reason="pulled")
    outbox_relay()
    Delivery.objects.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=timezone.now())
    deliveries_drain(subscription_id=subscription.pk)

    assert SourceRecord.objects.get(system=system, external_id=erp_copy).golden_record_id == goldens["001F"]
    assert set(emulator.store["customer"]) - customers_before == created
    assert not Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.DEAD]).exists()
