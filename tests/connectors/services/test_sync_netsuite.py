"""`manage.py sync` end to end over HTTP: the NetSuite emulator's customers become golden clients."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from canonical.models import Client, SourceRecord
from connectors.models import Stream, SyncRun
from connectors.netsuite.emulator import make_app
from tests.connectors.netsuite.conftest import CONFIG
from tests.factories.canonical import ConnectedSystemFactory


@pytest.fixture
def netsuite(db, serve_wsgi, monkeypatch):
    monkeypatch.setenv("NS_TEST_CLIENT_ID", "concord-demo")
    monkeypatch.setenv("NS_TEST_CERT_ID", "concord-cert")
    emulator = make_app(seed=42, clients=12)
    system = ConnectedSystemFactory(key="netsuite", kind="netsuite", base_url=serve_wsgi(emulator), config=CONFIG)
    return emulator, system


def sync(*args):
    out = StringIO()
    call_command("sync", *args, stdout=out)
    return out.getvalue()


def test_pull_customers_then_only_what_changed_then_deletes(netsuite):
    emulator, _ = netsuite
    customers = len(emulator.store["customer"])

    first = sync("netsuite", "customer")
    again = sync("netsuite", "customer")
    some_id = sorted(emulator.store["customer"])[0]
    emulator.touch("customer", some_id, companyName="Renamed Holdings Limited")
    after_touch = sync("netsuite", "customer")
    emulator.delete("customer", some_id)
    sync("netsuite", "customer")

    assert f"{customers} received, {customers} created" in first
    # Subsidiaries arrived before their parents in places: every parent link is resolved by the run's end.
    with_parent = sum(1 for c in emulator.store["customer"].values() if c.get("parent"))
    assert with_parent > 0
    assert Client.objects.filter(parent__isnull=False).count() == with_parent
    assert not Client.objects.extra(where=["lineage @? '$.* ? (exists(@.unresolved))'"]).exists()
    assert " 0 created, 0 updated" in again
    assert "1 updated" in after_touch
    assert SourceRecord.objects.filter(object_type="customer").count() == customers
    assert Client.objects.count() == customers
    renamed = SourceRecord.objects.get(object_type="customer", external_id=some_id)
    assert renamed.attributes["legal_name"] == "Renamed Holdings Limited" and renamed.is_deleted
    stream = Stream.objects.get(object_type="customer")
    assert stream.cursor and stream.last_error == ""
    assert SyncRun.objects.filter(stream=stream).count() == 4


def test_unknown_system_and_object_are_clear_errors(netsuite):
    with pytest.raises(CommandError, match="no connected system 'sap'"):
        sync("sap")
    with pytest.raises(CommandError, match="no object 'Widget'"):
        sync("netsuite", "Widget")


def test_invoices_become_revenue_events_once_placed_on_their_client_and_project(netsuite):
    from canonical.models import RevenueEvent

    emulator, _ = netsuite
    invoices = emulator.store["invoice"]

    early = sync("netsuite", "invoice")  # before their customers and projects: they wait
    waiting = RevenueEvent.objects.count()
    sync("netsuite", "customer")
    sync("netsuite", "job")
    sync("netsuite", "invoice")
    again = sync("netsuite", "invoice", "--full")

    assert f"{len(invoices)} received" in early and waiting == 0
    assert RevenueEvent.objects.count() == len(invoices)
    one_id, one = next(iter(invoices.items()))
    event = RevenueEvent.objects.get(idempotency_key=f"netsuite:invoice:{one_id}")
    customer = SourceRecord.objects.get(object_type="customer", external_id=one["entity"]["id"])
    assert (event.kind, str(event.amount), event.currency) == ("invoice_issued", f"{one['total']:.2f}",
                                                               one["currency"]["refName"])
    assert event.client_id == customer.golden_record_id and event.engagement_id is not None
    assert event.source_reference == one["tranId"]
    assert " 0 created" in again and RevenueEvent.objects.count() == len(invoices)
