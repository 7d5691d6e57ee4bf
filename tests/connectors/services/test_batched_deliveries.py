"""Due deliveries to one platform go out in batches: one composite request for many records, each record's
own result settling its own delivery."""

import datetime as dt

from canonical.services.golden import source_record_stage
from canonical.services.matching import source_record_match
from connectors.models import Delivery, DeliveryStatus
from connectors.services.outbound import deliveries_attempt, deliveries_due, outbox_relay
from tests.factories.canonical import ConnectedSystemFactory

COMPOSITE = "/services/data/v62.0/composite/sobjects/Account/Hub_Id__c"


def erp_clients(count):
    erp = ConnectedSystemFactory(key="netsuite", kind="netsuite")
    for i in range(count):
        name = f"Batch Client {i} Limited"
        source = source_record_stage(system=erp, object_type="customer", external_id=f"b{i}", entity_type="client",
                                     attributes={"legal_name": name, "country": "GB"}, payload={"id": i, "n": name},
                                     source_modified_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC)).source_record
        source_record_match(source_record=source)


def test_many_deliveries_to_one_platform_are_one_request_and_settle_one_by_one(salesforce_target):
    emulator, _, _ = salesforce_target
    erp_clients(5)
    outbox_relay()

    batches = [deliveries_due()[:3], deliveries_due()[3:]]
    attempted = [deliveries_attempt(delivery_ids=batch) for batch in batches]
    again = deliveries_attempt(delivery_ids=batches[0])

    assert [len(b) for b in batches] == [3, 2]
    assert [len(a) for a in attempted] == [3, 2] and again == []
    assert len(emulator.requests_to("PATCH", COMPOSITE)) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    hub_ids = {r.get("Hub_Id__c") for r in emulator.store["Account"].values()}
    assert {d.change.golden_id for d in Delivery.objects.select_related("change")} <= hub_ids


def test_a_record_the_platform_refuses_fails_alone(salesforce_target):
    emulator, _, _ = salesforce_target
    erp_clients(3)
    outbox_relay()
    emulator.faults.inject("partial_batch", times=1)

    batch = deliveries_due()
    deliveries_attempt(delivery_ids=batch)

    # every other record of the request (the 2nd) is refused as a duplicate: that delivery alone is dead
    statuses = [d.status for d in Delivery.objects.filter(pk__in=batch).order_by("version", "created_at")]
    assert sorted(statuses) == [DeliveryStatus.DEAD, DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED]
    assert "DUPLICATE_VALUE" in Delivery.objects.get(status=DeliveryStatus.DEAD).last_error
    assert len(emulator.requests_to("PATCH", COMPOSITE)) == 1
