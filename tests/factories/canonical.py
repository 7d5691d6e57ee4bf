"""Factories of canonical records. Golden records built here carry history like any other write."""

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from canonical.choices import ContractKind, EngagementStatus, RevenueEventKind, SystemKind
from canonical.models import (
    Client,
    ConnectedSystem,
    Contract,
    Engagement,
    GlossaryTerm,
    Milestone,
    RevenueEvent,
    SourceRecord,
)


class ConnectedSystemFactory(DjangoModelFactory):
    class Meta:
        model = ConnectedSystem
        django_get_or_create = ("key",)

    key = "salesforce"
    kind = factory.LazyAttribute(lambda o: o.key if o.key in SystemKind.values else SystemKind.SALESFORCE)
    name = factory.LazyAttribute(lambda o: o.key.title())
    base_url = "https://example.my.salesforce.com"


class ClientFactory(DjangoModelFactory):
    class Meta:
        model = Client

    legal_name = factory.Sequence(lambda n: f"Client {n} Limited")
    display_name = factory.Sequence(lambda n: f"Client {n}")
    website_domain = factory.Sequence(lambda n: f"client{n}.example")
    country = "GB"
    currency = "GBP"
    industry = "Financial Services"


class EngagementFactory(DjangoModelFactory):
    class Meta:
        model = Engagement

    client = factory.SubFactory(ClientFactory)
    code = factory.Sequence(lambda n: f"PRJ-{n:05d}")
    name = factory.Sequence(lambda n: f"Engagement {n}")
    status = EngagementStatus.ACTIVE
    start_date = dt.date(2026, 1, 1)
    end_date = dt.date(2026, 12, 31)
    budget_amount = Decimal("100000.00")
    currency = "GBP"
    practice = "Technology"


class MilestoneFactory(DjangoModelFactory):
    class Meta:
        model = Milestone

    engagement = factory.SubFactory(EngagementFactory)
    name = factory.Sequence(lambda n: f"Milestone {n}")
    sequence = factory.Sequence(lambda n: n + 1)
    due_date = dt.date(2026, 6, 30)
    amount = Decimal("25000.00")
    currency = "GBP"


class ContractFactory(DjangoModelFactory):
    class Meta:
        model = Contract

    client = factory.SubFactory(ClientFactory)
    kind = ContractKind.MSA
    number = factory.Sequence(lambda n: f"MSA-{n:05d}")
    currency = "GBP"


class RevenueEventFactory(DjangoModelFactory):
    class Meta:
        model = RevenueEvent

    idempotency_key = factory.Sequence(lambda n: f"test:{n}")
    kind = RevenueEventKind.INVOICE_ISSUED
    amount = Decimal("1000.00")
    currency = "GBP"
    occurred_on = dt.date(2026, 3, 15)
    period = factory.LazyAttribute(lambda o: o.occurred_on.strftime("%Y-%m"))
    client = factory.SubFactory(ClientFactory)


class SourceRecordFactory(DjangoModelFactory):
    class Meta:
        model = SourceRecord

    system = factory.SubFactory(ConnectedSystemFactory)
    object_type = "Account"
    external_id = factory.Sequence(lambda n: f"001{n:015d}")
    entity_type = "client"
    payload_hash = factory.Sequence(lambda n: f"{n:064d}")


class GlossaryTermFactory(DjangoModelFactory):
    class Meta:
        model = GlossaryTerm

    name = factory.Sequence(lambda n: f"Term {n}")
    slug = factory.Sequence(lambda n: f"term-{n}")
    definition = "A test definition."
    domain = "finance"
    owner = "Financial Controller"
    status = "approved"


def client_arrives(system_key: str, external_id: str, **attributes):
    """A client copy arriving from a platform, staged and matched as a pull would: returns its source record."""
    from canonical.services.golden import source_record_stage
    from canonical.services.matching import source_record_match

    system = ConnectedSystem.objects.filter(key=system_key).first() or ConnectedSystemFactory(key=system_key)
    source = source_record_stage(
        system=system, object_type="Account", external_id=external_id, entity_type="client",
        attributes=attributes, payload={"id": external_id, **attributes},
        source_modified_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
    ).source_record
    source_record_match(source_record=source)
    source.refresh_from_db()
    return source


def potential_match_pair(suffix: str = ""):
    """Two client copies that the matcher puts in the grey zone (a PotentialMatch): returns their sources."""
    a = client_arrives("netsuite", f"pm-{suffix}1", legal_name=f"Lucerne Publishing{suffix} GmbH", country="DE",
                       billing_postcode="10115")
    b = client_arrives("salesforce", f"pm-{suffix}2", legal_name=f"Lucerne Publishing{suffix}", country="DE")
    return a, b
