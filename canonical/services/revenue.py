"""Revenue events: record a business fact once, whatever number of times it is reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from canonical.choices import ChangeOperation
from canonical.models import Client, ConnectedSystem, Contract, Engagement, Milestone, RevenueEvent, SourceRecord
from canonical.services.changes import change_event_record


class IdempotencyConflict(ValidationError):
    """The same idempotency key was reported with different facts."""


@dataclass(frozen=True)
class RevenueFact:
    idempotency_key: str
    kind: str
    amount: Decimal
    currency: str
    occurred_on: date
    client: Client
    engagement: Engagement | None = None
    contract: Contract | None = None
    milestone: Milestone | None = None
    source_system: ConnectedSystem | None = None
    source_reference: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        # Money is Decimal, never float: accept "1200.00" or Decimal, refuse floats outright.
        if isinstance(self.amount, float):
            raise TypeError("amount must be a Decimal or a string, not a float")
        object.__setattr__(self, "amount", Decimal(str(self.amount)).quantize(Decimal("0.01")))
        object.__setattr__(self, "currency", self.currency.upper())

    @property
    def period(self) -> str:
        return self.occurred_on.strftime("%Y-%m")


_FACT_FIELDS = ("kind", "amount", "currency", "occurred_on")


def revenue_event_record(
    *, fact: RevenueFact, source_records: Sequence[SourceRecord] = (), reason: str = "revenue event reported"
) -> tuple[RevenueEvent, bool]:
    """Record a revenue event; returns (event, created). A repeat of the same fact is a no-op.

    A repeat with the same key but different facts raises IdempotencyConflict: a fact is never edited,
    a correction is a new event with its own key.
    """
    with transaction.atomic():
        existing = RevenueEvent.objects.filter(idempotency_key=fact.idempotency_key).first()
        if existing is None:
            event = RevenueEvent(
                idempotency_key=fact.idempotency_key, kind=fact.kind, amount=fact.amount, currency=fact.currency,
                occurred_on=fact.occurred_on, period=fact.period, client=fact.client, engagement=fact.engagement,
                contract=fact.contract, milestone=fact.milestone, source_system=fact.source_system,
                source_reference=fact.source_reference, description=fact.description,
            )
            event.full_clean(exclude=["golden_id"])
            event._change_reason = reason
            try:
                with transaction.atomic():
                    event.save()
            except IntegrityError:
                existing = RevenueEvent.objects.get(idempotency_key=fact.idempotency_key)
            else:
                event.refresh_from_db(fields=["golden_id"])
                change_event_record(
                    record=event, operation=ChangeOperation.CREATED, changed_fields=_FACT_FIELDS, reason=reason
                )
                _attach(event, source_records)
                return event, True
        different = [f for f in _FACT_FIELDS if getattr(existing, f) != getattr(fact, f)]
        if different:
            raise IdempotencyConflict(
                f"revenue event {existing.golden_id} already recorded under key {fact.idempotency_key!r} "
                f"with different {', '.join(different)}"
            )
        _attach(existing, source_records)
        return existing, False


def _attach(event: RevenueEvent, source_records: Sequence[SourceRecord]) -> None:
    for source in source_records:
        if source.entity_type != event.ENTITY_TYPE:
            raise ValueError(f"source {source} feeds a {source.entity_type}, not a revenue event")
        if source.golden_record_id not in (None, event.pk):
            raise ValueError(f"source {source} already belongs to golden record {source.golden_record_id}")
        if source.golden_record_id != event.pk:
            source.golden_record_id = event.pk
            source._change_reason = f"attached to {event.golden_id}"
            source.save(update_fields=["golden_record_id", "last_changed_at"])
