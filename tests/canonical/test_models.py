"""Constraints the database itself enforces, golden ids, and history with correlation ids."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from canonical.models import Client, RevenueEvent
from hub import correlation
from tests.factories.canonical import (
    ClientFactory,
    ConnectedSystemFactory,
    ContractFactory,
    EngagementFactory,
    RevenueEventFactory,
    SourceRecordFactory,
)


def test_golden_ids_are_readable_unique_and_per_entity(db):
    a, b = ClientFactory(), ClientFactory()
    engagement = EngagementFactory(client=a)

    assert a.golden_id.startswith("CL-") and len(a.golden_id) == 9
    assert int(b.golden_id[3:]) == int(a.golden_id[3:]) + 1
    assert engagement.golden_id.startswith("EN-")


def test_golden_id_grows_past_six_digits_without_truncation(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('canonical_client_golden_seq', 1234567)")

    assert ClientFactory().golden_id == "CL-1234568"


def test_crosswalk_natural_key_is_unique(db):
    system = ConnectedSystemFactory()
    SourceRecordFactory(system=system, object_type="Account", external_id="001X")

    with pytest.raises(IntegrityError), transaction.atomic():
        SourceRecordFactory(system=system, object_type="Account", external_id="001X")


def test_same_external_id_in_another_object_or_system_is_fine(db):
    SourceRecordFactory(system=ConnectedSystemFactory(key="salesforce"), object_type="Account", external_id="1")
    SourceRecordFactory(system=ConnectedSystemFactory(key="salesforce"), object_type="Contact", external_id="1")
    SourceRecordFactory(system=ConnectedSystemFactory(key="netsuite"), object_type="Account", external_id="1")


def test_change_order_needs_a_parent(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        ContractFactory(kind="change_order", parent=None)


def test_msa_cannot_have_a_parent(db):
    msa = ContractFactory(kind="msa")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContractFactory(kind="msa", parent=msa, client=msa.client)


def test_engagement_cannot_end_before_it_starts(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        EngagementFactory(start_date=dt.date(2026, 5, 1), end_date=dt.date(2026, 4, 1))


def test_money_without_currency_is_refused(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        EngagementFactory(budget_amount=Decimal("10.00"), currency="")


def test_revenue_event_facts_cannot_be_changed_or_deleted(db):
    event = RevenueEventFactory(amount=Decimal("500.00"))

    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        RevenueEvent.objects.filter(pk=event.pk).update(amount=Decimal("501.00"))
    with pytest.raises(IntegrityError, match="cannot be deleted"), transaction.atomic():
        RevenueEvent.objects.filter(pk=event.pk).delete()

    event.refresh_from_db()
    assert event.amount == Decimal("500.00")


def test_revenue_event_idempotency_key_is_unique(db):
    RevenueEventFactory(idempotency_key="sf:006:booking")

    with pytest.raises(IntegrityError), transaction.atomic():
        RevenueEventFactory(idempotency_key="sf:006:booking")


def test_revenue_event_period_must_be_yyyy_mm(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        RevenueEventFactory(period="2026-13")


def test_history_records_reason_and_correlation_id(db):
    with correlation.bind("req-42"):
        client = ClientFactory(legal_name="Before Ltd")
        client.legal_name = "After Ltd"
        client._change_reason = "steward fix"
        client.save()

    latest, first = client.history.all()[:2]
    assert latest.legal_name == "After Ltd" and first.legal_name == "Before Ltd"
    assert latest.history_change_reason == "steward fix"
    assert latest.correlation_id == first.correlation_id == "req-42"
    assert Client.history.filter(correlation_id="req-42").count() == 2


def test_analyze_keeps_no_statistics_for_documents_but_does_for_the_columns_queries_filter_on(db):
    from django.db import connection

    system = ConnectedSystemFactory()
    for n in range(30):
        SourceRecordFactory(system=system, external_id=f"X{n}", payload={"Id": f"X{n}", "Name": f"Company {n}"})
    ClientFactory.create_batch(5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE canonical_sourcerecord")
        cursor.execute("ANALYZE canonical_client")
        cursor.execute("SELECT tablename, attname FROM pg_stats WHERE tablename IN "
                       "('canonical_sourcerecord', 'canonical_client')")
        analysed = set(cursor.fetchall())

    assert ("canonical_sourcerecord", "external_id") in analysed
    assert ("canonical_client", "legal_name") in analysed
    for column in ("payload", "attributes", "attribute_times"):
        assert ("canonical_sourcerecord", column) not in analysed
    assert ("canonical_client", "lineage") not in analysed
