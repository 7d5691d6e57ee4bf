"""A delivery into a platform the hub has not read yet waits for that platform's first pull: written earlier,
it would create a second copy of a record the platform already holds but the hub has not seen. One whose golden
record has a copy there already (an update of the platform's own record, which creates nothing) goes out at once."""

import datetime as dt

from canonical.models import Client, SourceRecord
from canonical.services.golden import source_record_attach, source_record_stage
from canonical.services.matching import source_record_match
from connectors.models import Delivery, DeliveryStatus
from connectors.services.inbound import connector_for, stream_sync
from connectors.services.outbound import deliveries_due, delivery_attempt, outbox_relay
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
    statuses_while_unread = list(Delivery.objects.values_list("status", flat=True))
    held = [delivery_attempt(delivery_id=str(i)) for i in Delivery.objects.values_list("pk", flat=True)]
    attempts_while_held = list(Delivery.objects.values_list("attempts", flat=True))
    for stream in streams:
        stream_sync(stream=stream)
    outbox_relay()
    for delivery_id in deliveries_due():
        delivery_attempt(delivery_id=delivery_id)

    # not offered while the platform is unread, refused if asked all the same; waiting spends no attempt
    assert due_while_unread == [] and held == [None] and attempts_while_held == [0]
    assert statuses_while_unread == [DeliveryStatus.HELD]
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
    streams = streams_ensure(system=system)
    source_record_match(source_record=staged.source_record)
    outbox_relay()
    held = list(Delivery.objects.values_list("version", "status"))

    # when the ERP is read (its copy joins the golden record, which takes its legal name), and the hub delivers
    for stream in streams:
        stream_sync(stream=stream)
    outbox_relay()
    for delivery_id in deliveries_due():
        delivery_attempt(delivery_id=delivery_id)

    # then the held delivery of the CRM's values was not sent: the ERP keeps its own, which the golden record has
    golden = Client.objects.get(pk=staged.source_record.golden_record_id)
    assert held == [(1, DeliveryStatus.HELD)] and golden.legal_name == "Fabrikam Holdings Ltd" and golden.version > 1
    assert emulator.store["customer"][customer_id]["companyName"] == "Fabrikam Holdings Ltd"
    assert list(Delivery.objects.values_list("status", flat=True)) == [DeliveryStatus.SUPERSEDED]


def test_an_update_of_a_copy_the_unread_platform_holds_goes_out_at_once_and_a_new_record_waits(salesforce_target):
    emulator, system, _ = salesforce_target
    streams = streams_ensure(system=system)
    accounts = list(emulator.store["Account"].items())
    accounts_before = len(accounts)
    erp = ConnectedSystemFactory(key="netsuite", kind="netsuite")
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    # given a client both hold: the CRM's copy already placed (its first pull still going), without the website
    # the ERP's copy has
    (crm_id, crm_account), (_, other_account) = accounts[0], accounts[1]
    crm_values = {k: v for k, v in connector_for(system).parse_record("Account", crm_account).attributes.items()
                  if k != "website_domain"}
    erp_copy = source_record_stage(system=erp, object_type="customer", external_id="1", entity_type="client",
                                   attributes={**crm_values, "website_domain": "shared.example"},
                                   payload={"id": "1"}, source_modified_at=at).source_record
    source_record_match(source_record=erp_copy)
    crm_copy = source_record_stage(system=system, object_type="Account", external_id=crm_id, entity_type="client",
                                   attributes=crm_values, payload=dict(crm_account),
                                   source_modified_at=at).source_record
    shared = Client.objects.get(pk=erp_copy.golden_record_id)
    source_record_attach(source_record=crm_copy, record=shared, reason="placed by the first pull")
    # and a client only the ERP holds so far (the CRM may hold it, unread)
    only = dict(connector_for(system).parse_record("Account", other_account).attributes)
    erp_only = source_record_stage(system=erp, object_type="customer", external_id="2", entity_type="client",
                                   attributes=only, payload={"id": "2"}, source_modified_at=at).source_record
    source_record_match(source_record=erp_only)

    # when the hub relays and delivers before the CRM's first pull has ended
    outbox_relay()
    for delivery_id in deliveries_due():
        delivery_attempt(delivery_id=delivery_id)
    into_shared = set(Delivery.objects.filter(record_id=shared.pk).values_list("status", flat=True))
    into_only = list(Delivery.objects.filter(record_id=erp_only.golden_record_id).values_list("status", "attempts"))

    # then the update of the CRM's own account went out (the hub's id stamped on it, the website with it), no
    # new account was made, and the other client's delivery is held, no attempt spent
    assert DeliveryStatus.DELIVERED in into_shared and DeliveryStatus.HELD not in into_shared
    assert emulator.store["Account"][crm_id]["Hub_Id__c"] == shared.golden_id
    assert emulator.store["Account"][crm_id]["Website"].endswith("shared.example")
    assert len(emulator.store["Account"]) == accounts_before
    assert into_only == [(DeliveryStatus.HELD, 0)]

    # when the CRM's first pull ends (its copy of the other client joins it), and the hub delivers
    for stream in streams:
        stream_sync(stream=stream)
    released = list(Delivery.objects.filter(record_id=erp_only.golden_record_id).values_list("status", flat=True))
    outbox_relay()
    for delivery_id in deliveries_due():
        delivery_attempt(delivery_id=delivery_id)

    # then the held delivery was released, and the CRM holds each client once
    assert DeliveryStatus.HELD not in released
    assert not Delivery.objects.filter(status__in=[DeliveryStatus.HELD, DeliveryStatus.DEAD]).exists()
    assert len(emulator.store["Account"]) == accounts_before
    golden = Client.objects.get(pk=SourceRecord.objects.get(pk=erp_only.pk).golden_record_id)
    assert list(SourceRecord.objects.filter(system=system, golden_record_id=golden.pk)
                .values_list("external_id", flat=True)) == [accounts[1][0]]
