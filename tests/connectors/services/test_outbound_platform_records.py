"""Golden changes reaching records the platforms created themselves, over HTTP against both emulators.

A Salesforce account and a NetSuite customer of the same client are pulled and matched into one golden
record; neither carries the hub's id. A golden change then updates each platform's own record by its id
(never creating a second one) and stamps the hub's id on it, so reading it back is the hub's own change
and later changes go by the hub's id. A record deleted in the platform is a dead letter, not a new record.
"""

from dataclasses import dataclass

import pytest

from canonical.models import ChangeEvent, Client, ConnectedSystem, SourceRecord
from canonical.services.golden import golden_record_override_set
from connectors.models import Delivery, DeliveryStatus, Stream, Subscription
from connectors.netsuite.emulator import Emulator as NetSuite
from connectors.netsuite.emulator import make_app as netsuite_app
from connectors.salesforce.emulator import Emulator as Salesforce
from connectors.salesforce.emulator import make_app as salesforce_app
from connectors.services.outbound import deliveries_due, outbox_relay
from connectors.tasks import inbound_stream_sync_task, outbound_delivery_task
from tests.factories.canonical import ConnectedSystemFactory

API = "/services/data/v62.0"
RECORD = "/services/rest/record/v1/customer/"


@dataclass
class Hub:
    salesforce: Salesforce
    netsuite: NetSuite
    crm: ConnectedSystem
    erp: ConnectedSystem
    client: Client
    account_id: str
    customer_id: str


@pytest.fixture
def hub(db, serve_wsgi, monkeypatch) -> Hub:
    monkeypatch.setenv("SF_ID", "concord-demo")
    monkeypatch.setenv("SF_SECRET", "concord-demo-secret")
    monkeypatch.setenv("NS_ID", "concord-demo")
    monkeypatch.setenv("NS_CERT", "concord-cert")
    salesforce, netsuite = salesforce_app(seed=42, clients=3), netsuite_app(seed=42, clients=3)
    crm = ConnectedSystemFactory(key="salesforce", kind="salesforce", base_url=serve_wsgi(salesforce),
                                 config={"client_id_env": "SF_ID", "client_secret_env": "SF_SECRET"})
    erp = ConnectedSystemFactory(key="netsuite", kind="netsuite", base_url=serve_wsgi(netsuite),
                                 config={"client_id_env": "NS_ID", "certificate_id_env": "NS_CERT"})
    pull(erp, "customer")
    pull(crm, "Account")
    outbox_relay()  # the initial loads are behind the relay before anyone subscribes
    copies = {}
    for source in SourceRecord.objects.filter(entity_type="client").order_by("external_id"):
        copies.setdefault(source.golden_record_id, {})[source.system.key] = source.external_id
    golden_pk, ids = next((pk, ids) for pk, ids in sorted(copies.items(), key=lambda item: str(item[1]))
                          if set(ids) == {"salesforce", "netsuite"})
    return Hub(salesforce, netsuite, crm, erp, Client.objects.get(pk=golden_pk), ids["salesforce"], ids["netsuite"])


def pull(system: ConnectedSystem, object_type: str) -> None:
    stream, _ = Stream.objects.get_or_create(system=system, object_type=object_type)
    inbound_stream_sync_task(str(stream.pk))


def subscribe(system: ConnectedSystem, object_type: str, fields: list[str]) -> None:
    Subscription.objects.create(system=system, entity_type="client", object_type=object_type, fields=fields)


def deliver() -> list[Delivery]:
    ids = deliveries_due()
    for delivery_id in ids:
        outbound_delivery_task(delivery_id)
    return list(Delivery.objects.filter(pk__in=ids))


def override(client: Client, attribute: str, value: str) -> None:
    golden_record_override_set(record=client, attribute=attribute, value=value, actor="steward", reason="checked")


def patches(emulator, prefix: str) -> list[str]:
    return [r.path for r in emulator.requests if r.method in ("PATCH", "PUT") and r.path.startswith(prefix)]


def test_a_salesforce_account_is_updated_in_place_then_written_by_the_hub_id(hub: Hub) -> None:
    sf, client = hub.salesforce, hub.client
    accounts = len(sf.store["Account"])
    subscribe(hub.crm, "Account", ["legal_name", "display_name"])
    # A newer value in the ERP, which is authoritative for the legal name.
    hub.netsuite.touch("customer", hub.customer_id, companyName="Northwind Holdings Limited")
    pull(hub.erp, "customer")

    relayed = outbox_relay()
    delivered = deliver()

    account = sf.store["Account"][hub.account_id]
    assert relayed == 1 and [d.status for d in delivered] == [DeliveryStatus.DELIVERED]
    assert (account["Legal_Name__c"], account["Hub_Id__c"]) == ("Northwind Holdings Limited", client.golden_id)
    assert len(sf.store["Account"]) == accounts
    assert patches(sf, API) == [f"{API}/sobjects/Account/{hub.account_id}"]
    crosswalk = SourceRecord.objects.get(system=hub.crm, external_id=hub.account_id)
    assert crosswalk.payload["hub_id"] == client.golden_id
    assert crosswalk.attributes["legal_name"] == "Northwind Holdings Limited"

    # Reading the account back is the hub's own change: nothing changes, nothing is sent.
    client.refresh_from_db()
    version, events = client.version, ChangeEvent.objects.count()
    pull(hub.crm, "Account")
    client.refresh_from_db()
    assert (client.version, ChangeEvent.objects.count(), outbox_relay()) == (version, events, 0)
    assert SourceRecord.objects.get(system=hub.crm, external_id=hub.account_id).payload["Hub_Id__c"] == client.golden_id

    # The next change goes by the hub's id, and still updates the same account.
    override(client, "display_name", "Northwind")
    outbox_relay()
    (second,) = deliver()

    assert second.status == DeliveryStatus.DELIVERED and second.external_id == hub.account_id
    assert patches(sf, API)[1:] == [f"{API}/composite/sobjects/Account/Hub_Id__c"]
    assert sf.requests_to("PATCH", f"{API}/composite")[-1].body["records"][0]["Hub_Id__c"] == client.golden_id
    assert sf.store["Account"][hub.account_id]["Name"] == "Northwind"
    assert len(sf.store["Account"]) == accounts


def test_a_netsuite_customer_is_updated_in_place_then_written_by_the_hub_id(hub: Hub) -> None:
    ns, client = hub.netsuite, hub.client
    customers = len(ns.store["customer"])
    subscribe(hub.erp, "customer", ["legal_name"])
    override(client, "legal_name", "Northwind Trading Limited")

    relayed = outbox_relay()
    delivered = deliver()

    customer = ns.store["customer"][hub.customer_id]
    assert relayed == 1 and [d.status for d in delivered] == [DeliveryStatus.DELIVERED]
    assert (customer["companyName"], customer["externalId"]) == ("Northwind Trading Limited", client.golden_id)
    assert len(ns.store["customer"]) == customers
    assert patches(ns, RECORD) == [f"{RECORD}{hub.customer_id}"]
    assert SourceRecord.objects.get(system=hub.erp, external_id=hub.customer_id).payload["hub_id"] == client.golden_id

    client.refresh_from_db()
    version, events = client.version, ChangeEvent.objects.count()
    pull(hub.erp, "customer")
    client.refresh_from_db()
    assert (client.version, ChangeEvent.objects.count(), outbox_relay()) == (version, events, 0)

    override(client, "legal_name", "Northwind Trading Group Limited")
    outbox_relay()
    (second,) = deliver()

    assert second.status == DeliveryStatus.DELIVERED and second.external_id == hub.customer_id
    assert patches(ns, RECORD)[1:] == [f"{RECORD}eid:{client.golden_id}"]
    assert ns.store["customer"][hub.customer_id]["companyName"] == "Northwind Trading Group Limited"
    assert len(ns.store["customer"]) == customers


def test_a_salesforce_account_deleted_there_is_a_dead_letter_not_a_new_account(hub: Hub) -> None:
    sf = hub.salesforce
    accounts = len(sf.store["Account"])
    subscribe(hub.crm, "Account", ["display_name"])
    sf.delete("Account", hub.account_id)  # not pulled yet: the hub still holds the account as live
    override(hub.client, "display_name", "Northwind")

    outbox_relay()
    (delivery,) = deliver()

    assert delivery.status == DeliveryStatus.DEAD and delivery.attempts == 1
    assert delivery.last_error.startswith("ENTITY_IS_DELETED")
    assert len(sf.store["Account"]) == accounts
    assert not [a for a in sf.store["Account"].values() if a["Hub_Id__c"] == hub.client.golden_id]


def test_a_netsuite_customer_deleted_there_is_a_dead_letter_not_a_new_customer(hub: Hub) -> None:
    ns = hub.netsuite
    subscribe(hub.erp, "customer", ["legal_name"])
    ns.delete("customer", hub.customer_id)
    customers = len(ns.store["customer"])
    override(hub.client, "legal_name", "Northwind Trading Limited")

    outbox_relay()
    (delivery,) = deliver()

    assert delivery.status == DeliveryStatus.DEAD and "404" in delivery.last_error
    assert "NONEXISTENT_ID" in delivery.last_error
    assert len(ns.store["customer"]) == customers
    assert not [c for c in ns.store["customer"].values() if c.get("externalId") == hub.client.golden_id]


def test_a_record_the_hub_created_takes_later_changes_by_the_hub_id_after_it_is_read_back(hub: Hub) -> None:
    sf = hub.salesforce
    only_erp = Client.objects.exclude(pk=hub.client.pk).filter(
        pk__in=SourceRecord.objects.filter(system=hub.erp).values("golden_record_id")).exclude(
        pk__in=SourceRecord.objects.filter(system=hub.crm).values("golden_record_id")).first()
    assert only_erp is not None
    subscribe(hub.crm, "Account", ["legal_name", "display_name"])
    override(only_erp, "display_name", "Rheinwerk")
    outbox_relay()
    (created,) = deliver()
    pull(hub.crm, "Account")

    override(only_erp, "display_name", "Rheinwerk Group")
    relayed = outbox_relay()
    (updated,) = deliver()

    accounts = [a for a in sf.store["Account"].values() if a["Hub_Id__c"] == only_erp.golden_id]
    assert created.response["created"] is True and relayed == 1
    assert (updated.status, updated.external_id) == (DeliveryStatus.DELIVERED, created.external_id)
    assert [a["Name"] for a in accounts] == ["Rheinwerk Group"]
    assert patches(sf, API) == [f"{API}/composite/sobjects/Account/Hub_Id__c"] * 2
