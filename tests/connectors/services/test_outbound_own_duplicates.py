"""A golden record holding two records a platform created itself (its own duplicates, matched together) gets its
changes written to one of them by its id, stamped with the hub's id; the platform never gets a third record.

The sync benchmark once counted such a stamped record as a copy the hub wrote beside the platform's own one,
though the hub had created nothing there.
"""

import copy

from canonical.models import SourceRecord
from canonical.services.golden import golden_record_create, golden_record_override_set, source_record_stage
from connectors.models import Delivery, DeliveryStatus
from connectors.services.inbound import connector_for
from connectors.services.outbound import deliveries_drain, outbox_relay, subscriptions_due


def test_two_records_of_a_platform_in_one_golden_record_are_written_in_place_never_a_third(netsuite_target):
    emulator, system = netsuite_target
    customers = copy.deepcopy(emulator.store["customer"])
    first_id, second_id = sorted(customers, key=int)[:2]
    connector = connector_for(system)
    held = []
    for external_id in (first_id, second_id):
        change = connector.parse_record("customer", customers[external_id])
        held.append(source_record_stage(system=system, object_type="customer", external_id=external_id,
                                          entity_type="client", attributes=change.attributes, payload=change.payload,
                                          source_modified_at=change.modified_at).source_record)
    client = golden_record_create(entity_type="client", source_records=held, reason="matched together")
    outbox_relay()
    golden_record_override_set(record=client, attribute="legal_name", value="Renamed By A Steward Limited",
                               actor="steward", reason="checked")
    outbox_relay()

    for subscription_id in subscriptions_due():
        deliveries_drain(subscription_id=subscription_id)

    (delivery,) = Delivery.objects.filter(record_id=client.pk, status=DeliveryStatus.DELIVERED)
    assert delivery.response == {"external_id": first_id, "created": False}
    assert len(emulator.store["customer"]) == len(customers)
    stamped, other = emulator.store["customer"][first_id], emulator.store["customer"][second_id]
    assert (stamped["companyName"], stamped["externalId"]) == ("Renamed By A Steward Limited", client.golden_id)
    assert other == customers[second_id] and other["externalId"] is None
    assert SourceRecord.objects.get(system=system, external_id=first_id).payload["hub_id"] == client.golden_id
    assert "hub_id" not in SourceRecord.objects.get(system=system, external_id=second_id).payload
