"""A record carrying the hub's id of a golden record the hub delivered to that platform is that golden record's
copy: read before the hub recorded its write (a pull between the write and its commit), it joins the golden record
by that id, not by matching, which may find another golden record it resembles more."""

import datetime as dt

from canonical.models import Client, SourceRecord
from canonical.services.golden import source_record_stage
from canonical.services.matching import source_record_match
from connectors.models import Delivery
from connectors.services.inbound import stream_sync
from connectors.services.outbound import outbox_relay
from connectors.services.streams import streams_ensure
from tests.factories.canonical import ConnectedSystemFactory


def _golden(system, external_id: str, **attributes) -> Client:
    staged = source_record_stage(system=system, object_type="customer", external_id=external_id,
                                 entity_type="client", attributes={"country": "GB", **attributes},
                                 payload={"id": external_id}, source_modified_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    source_record_match(source_record=staged.source_record)
    return Client.objects.get(pk=staged.source_record.golden_record_id)


def test_a_record_carrying_the_hub_id_of_a_golden_record_delivered_there_joins_it_unmatched(salesforce_target):
    emulator, system, _ = salesforce_target
    erp = ConnectedSystemFactory(key="netsuite", kind="netsuite")
    # given two golden records from the ERP, alike, and each on its way to the CRM (its deliveries made)
    written = _golden(erp, "1", legal_name="Northwind Analytics Ltd", website_domain="northwind-analytics.example")
    alike = _golden(erp, "2", legal_name="Northwind Analytics Ltd", website_domain="northwind.example",
                    tax_id="GB980780684")
    streams_ensure(system=system)
    outbox_relay()
    assert set(Delivery.objects.values_list("record_id", flat=True)) == {written.pk, alike.pk}
    # and the CRM holding the hub's write of the first one with values more like the second (its tax number, its
    # website), and an account carrying the id of a golden record the hub never delivered there
    account_id = next(iter(emulator.store["Account"]))
    emulator.touch("Account", account_id, Name="Northwind Analytics Ltd", Legal_Name__c="Northwind Analytics Ltd",
                   Website="https://northwind.example", VAT_Number__c="GB980780684", BillingCountry="GB",
                   Hub_Id__c=written.golden_id)
    stranger_id = list(emulator.store["Account"])[1]
    emulator.touch("Account", stranger_id, Hub_Id__c="CL-999999")

    # when the CRM is pulled
    for stream in streams_ensure(system=system):
        stream_sync(stream=stream)

    # then the hub's write joined the golden record it was written for, by its id; the other account was matched
    copy = SourceRecord.objects.get(system=system, external_id=account_id)
    assert copy.golden_record_id == written.pk
    assert any("carries the hub's id" in (h.history_change_reason or "") for h in copy.history.all())
    stranger = SourceRecord.objects.get(system=system, external_id=stranger_id)
    assert stranger.golden_record_id not in (None, written.pk)
