"""Staging source copies and computing golden records: no-ops, stale copies, lineage, versions."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from canonical.models import ChangeEvent, Client, SourceRecord
from canonical.services.golden import golden_record_create, golden_record_recompute, source_record_stage
from canonical.services.revenue import IdempotencyConflict, RevenueFact, revenue_event_record
from tests.factories.canonical import ClientFactory, ConnectedSystemFactory

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def salesforce(db):
    return ConnectedSystemFactory(key="salesforce")


@pytest.fixture
def netsuite(db):
    return ConnectedSystemFactory(key="netsuite")


def stage(system, external_id, modified=T0, object_type="Account", entity_type="client", **attributes):
    return source_record_stage(
        system=system, object_type=object_type, external_id=external_id, entity_type=entity_type,
        attributes=attributes, payload={"Id": external_id, **attributes}, source_modified_at=modified,
    )


def test_staging_the_same_payload_twice_changes_nothing(salesforce):
    first = stage(salesforce, "001A", legal_name="Acme Ltd")
    history_rows = SourceRecord.history.count()

    again = stage(salesforce, "001A", legal_name="Acme Ltd")

    assert first.created and first.changed
    assert not again.created and not again.changed
    assert SourceRecord.history.count() == history_rows
    assert SourceRecord.objects.count() == 1


def test_a_late_arriving_older_copy_never_overwrites_a_newer_one(salesforce):
    stage(salesforce, "001A", modified=T0 + dt.timedelta(hours=2), legal_name="Newer Ltd")

    late = stage(salesforce, "001A", modified=T0, legal_name="Older Ltd")

    assert late.stale and not late.changed
    assert SourceRecord.objects.get().attributes["legal_name"] == "Newer Ltd"


def test_unknown_entity_type_is_refused(salesforce):
    with pytest.raises(ValueError, match="Unknown entity type 'planet'"):
        stage(salesforce, "001A", entity_type="planet", legal_name="x")


def test_golden_record_takes_authoritative_values_and_records_lineage(salesforce, netsuite):
    sf = stage(salesforce, "001A", legal_name="Acme", display_name="Acme", industry="Retail").source_record
    ns = stage(netsuite, "9", object_type="customer", legal_name="Acme Limited", tax_id="GB999999973").source_record

    client = golden_record_create(entity_type="client", source_records=[sf, ns], reason="load")

    assert (client.legal_name, client.display_name, client.industry, client.tax_id) == (
        "Acme Limited", "Acme", "Retail", "GB999999973")
    assert client.lineage["legal_name"]["source_record"] == str(ns.pk)
    assert client.lineage["display_name"]["system"] == "salesforce"
    assert client.version == 1
    assert set(SourceRecord.objects.values_list("golden_record_id", flat=True)) == {client.pk}
    event = ChangeEvent.objects.get(record_id=client.pk)
    assert event.operation == "created" and event.data["legal_name"] == "Acme Limited"


def test_recompute_with_nothing_new_writes_nothing(salesforce):
    sf = stage(salesforce, "001A", legal_name="Acme Ltd").source_record
    client = golden_record_create(entity_type="client", source_records=[sf], reason="load")
    history_rows, events = client.history.count(), ChangeEvent.objects.count()

    changed = golden_record_recompute(record=client, reason="again")

    assert changed == []
    assert client.history.count() == history_rows
    assert ChangeEvent.objects.count() == events
    assert Client.objects.get().version == 1


def test_recompute_after_a_source_change_bumps_version_and_writes_one_change(salesforce):
    sf = stage(salesforce, "001A", legal_name="Acme Ltd", country="GB").source_record
    client = golden_record_create(entity_type="client", source_records=[sf], reason="load")

    stage(salesforce, "001A", modified=T0 + dt.timedelta(minutes=5), legal_name="Acme Ltd", country="IE")
    changed = golden_record_recompute(record=client, reason="salesforce delta")

    assert changed == ["country"]
    assert (client.country, client.version) == ("IE", 2)
    latest = ChangeEvent.objects.filter(record_id=client.pk).order_by("-id").first()
    assert (latest.version, latest.changed_fields, latest.reason) == (2, ["country"], "salesforce delta")


def test_engagement_resolves_its_client_through_the_crosswalk(salesforce):
    account = stage(salesforce, "001A", legal_name="Acme Ltd").source_record
    client = golden_record_create(entity_type="client", source_records=[account], reason="load")
    opp = stage(salesforce, "006B", object_type="Opportunity", entity_type="engagement", name="ERP rollout",
                client={"object_type": "Account", "external_id": "001A"}, budget_amount="250000.00",
                currency="GBP", start_date="2026-04-01").source_record

    engagement = golden_record_create(entity_type="engagement", source_records=[opp], reason="load")

    assert engagement.client_id == client.pk
    assert str(engagement.budget_amount) == "250000.00"
    assert engagement.start_date == dt.date(2026, 4, 1)


def test_engagement_whose_client_is_unknown_is_refused_and_nothing_is_written(salesforce):
    opp = stage(salesforce, "006B", object_type="Opportunity", entity_type="engagement", name="Orphan",
                client={"object_type": "Account", "external_id": "missing"}).source_record
    events = ChangeEvent.objects.count()

    with pytest.raises(ValidationError, match="reference .* does not resolve to a golden Client"):
        golden_record_create(entity_type="engagement", source_records=[opp], reason="load")

    assert ChangeEvent.objects.count() == events
    assert SourceRecord.objects.get(pk=opp.pk).golden_record_id is None


def test_revenue_event_reported_twice_lands_once(db):
    client = ClientFactory()
    fact = RevenueFact(idempotency_key="ns:invoice:INV-1", kind="invoice_issued", amount="1200.00",
                       currency="GBP", occurred_on=dt.date(2026, 3, 31), client=client)

    first, created = revenue_event_record(fact=fact)
    second, created_again = revenue_event_record(fact=fact)

    assert created and not created_again
    assert first.pk == second.pk and first.period == "2026-03"
    assert ChangeEvent.objects.filter(record_id=first.pk).count() == 1


def test_revenue_event_same_key_different_facts_is_a_conflict(db):
    client = ClientFactory()
    base = dict(idempotency_key="k", kind="invoice_issued", currency="GBP", occurred_on=dt.date(2026, 3, 31),
                client=client)
    revenue_event_record(fact=RevenueFact(amount="100.00", **base))

    with pytest.raises(IdempotencyConflict, match="different amount"):
        revenue_event_record(fact=RevenueFact(amount="999.00", **base))


def test_a_source_already_in_a_golden_record_is_not_silently_moved(salesforce):
    sf = stage(salesforce, "001A", legal_name="Acme Ltd").source_record
    golden_record_create(entity_type="client", source_records=[sf], reason="load")

    with pytest.raises(ValueError, match="already belongs to golden record"):
        golden_record_create(entity_type="client", source_records=[sf], reason="again")

    assert Client.objects.count() == 1


def test_a_source_of_another_entity_type_is_refused(salesforce):
    opp = stage(salesforce, "006B", object_type="Opportunity", entity_type="engagement", name="x").source_record

    with pytest.raises(ValueError, match="feeds a engagement, not a client"):
        golden_record_create(entity_type="client", source_records=[opp], reason="load")


def test_reference_into_another_system_by_its_key(salesforce, netsuite):
    customer = stage(netsuite, "9", object_type="customer", legal_name="Acme Limited").source_record
    client = golden_record_create(entity_type="client", source_records=[customer], reason="load")
    opp = stage(salesforce, "006B", object_type="Opportunity", entity_type="engagement", name="Audit",
                client={"system": "netsuite", "object_type": "customer", "external_id": "9"}).source_record

    assert golden_record_create(entity_type="engagement", source_records=[opp], reason="load").client_id == client.pk


def test_a_copy_touched_elsewhere_keeps_the_time_its_unchanged_values_last_changed(db):
    # Two PSAs, neither authoritative for industry (the most recent value wins). Kantata's industry dates from
    # T0; Certinia changes it an hour later; then Kantata's record is touched (its name edited) at T0+2h: its
    # industry is still the older value, and Certinia's stays golden.
    kantata, certinia = ConnectedSystemFactory(key="kantata"), ConnectedSystemFactory(key="certinia")
    crm = stage(kantata, "001A", modified=T0, legal_name="Acme Ltd", industry="Retail").source_record
    client = golden_record_create(entity_type="client", source_records=[crm], reason="test")
    erp = stage(certinia, "9", modified=T0 + dt.timedelta(hours=1), object_type="customer",
                legal_name="Acme Ltd", industry="Media").source_record
    erp.golden_record_id = client.pk
    erp.save()
    golden_record_recompute(record=client, reason="erp joined")
    touched = stage(kantata, "001A", modified=T0 + dt.timedelta(hours=2), legal_name="Acme Limited",
                    industry="Retail").source_record
    golden_record_recompute(record=client, reason="crm touched")

    client.refresh_from_db()
    assert touched.attribute_times["industry"] == T0.isoformat()
    assert touched.attribute_times["legal_name"] == (T0 + dt.timedelta(hours=2)).isoformat()
    assert client.industry == "Media"


def test_a_revenue_event_attaches_each_of_its_copies_with_its_history(salesforce, netsuite):
    client = ClientFactory()
    held = ((netsuite, "INV-7"), (salesforce, "a0X7"))
    copies = [stage(system, external_id, object_type="invoice", entity_type="revenue_event",
                    amount="10.00").source_record for system, external_id in held]
    fact = RevenueFact(idempotency_key="ns:invoice:INV-7", kind="invoice_issued", amount="10.00", currency="GBP",
                       occurred_on=dt.date(2026, 3, 31), client=client)

    event, created = revenue_event_record(fact=fact, source_records=copies)

    assert created
    for copy in copies:
        copy.refresh_from_db()
        assert copy.golden_record_id == event.pk
        latest = copy.history.latest()
        assert (latest.history_type, latest.history_change_reason) == ("~", f"attached to {event.golden_id}")
        assert latest.golden_record_id == event.pk and latest.last_changed_at == copy.last_changed_at


def test_a_revenue_fact_that_is_not_valid_is_refused_whole(db):
    from django.core.exceptions import ValidationError

    from canonical.models import RevenueEvent

    base = dict(idempotency_key="k", amount="1.00", currency="GBP", occurred_on=dt.date(2026, 3, 31))
    with pytest.raises(ValidationError) as unsaved:
        revenue_event_record(fact=RevenueFact(kind="invoice_issued", client=ClientFactory.build(), **base))
    with pytest.raises(ValidationError) as unknown_kind:
        revenue_event_record(fact=RevenueFact(kind="barter", client=ClientFactory(), **base))

    assert "client" in unsaved.value.message_dict
    assert "kind" in unknown_kind.value.message_dict
    assert not RevenueEvent.objects.exists()
