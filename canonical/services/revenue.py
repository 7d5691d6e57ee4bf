"""Revenue events: record a business fact once, whatever number of times it is reported."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from canonical.choices import ChangeOperation
from canonical.models import Client, ConnectedSystem, Contract, Engagement, Milestone, RevenueEvent, SourceRecord
from canonical.services.changes import change_event_record
from canonical.services.golden import reference_resolve
from hub.db import history_rows_insert, rows_update


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
_REFERENCES = ("client", "engagement", "contract", "milestone", "source_system")


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
            # The references given as records read from the database are not looked up again (one query each;
            # the foreign keys hold them), nor is the key (read just above; a race ends in the IntegrityError
            # below), nor the period (worked out from the date, and checked by the database).
            loaded = [name for name in _REFERENCES if (record := getattr(fact, name)) is not None
                      and not record._state.adding]
            event.full_clean(exclude=["golden_id", *loaded], validate_unique=False, validate_constraints=False)
            event._change_reason = reason
            try:
                with transaction.atomic():
                    event.save()
            except IntegrityError:
                existing = RevenueEvent.objects.filter(idempotency_key=fact.idempotency_key).first()
                if existing is None:  # not the key taken meanwhile: a reference gone, say
                    raise
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
    """Attach the event's copies to it: in one update and one history statement, however many."""
    attached, now = [], timezone.now()
    for source in source_records:
        if source.entity_type != event.ENTITY_TYPE:
            raise ValueError(f"source {source} feeds a {source.entity_type}, not a revenue event")
        if source.golden_record_id not in (None, event.pk):
            raise ValueError(f"source {source} already belongs to golden record {source.golden_record_id}")
        if source.golden_record_id != event.pk:
            source.golden_record_id, source.last_changed_at = event.pk, now
            source._change_reason = f"attached to {event.golden_id}"
            attached.append(source)
    rows_update(SourceRecord, attached, ["golden_record_id", "last_changed_at"])
    history_rows_insert(SourceRecord, attached, update=True)


def revenue_event_from_source(*, source_record: SourceRecord, reason: str = "reported by a platform") -> RevenueEvent:
    """A platform's copy of a revenue fact (an invoice, a payment) as a revenue event, recorded once.

    Its idempotency key is the platform's own identity of the fact (system, object, id), so a copy pulled
    again, or pushed by webhook as well, is the same event. References (``client``, ``engagement``,
    ``contract``, ``milestone``) are platform ids resolved through the crosswalk; the client may be implied
    by the engagement or contract. A fact that cannot be placed yet (its client has not arrived) raises
    ValidationError and waits like any other record; a copy already recorded is left as it is (facts are
    immutable: a platform's correction arrives as a new document)."""
    if source_record.golden_record_id is not None:
        return RevenueEvent.objects.get(pk=source_record.golden_record_id)
    attributes = source_record.attributes
    refs = {name: _resolved(model, attributes.get(name), source_record.system_id)
            for name, model in (("client", Client), ("engagement", Engagement), ("contract", Contract),
                                ("milestone", Milestone))}
    client = refs["client"] or getattr(refs["engagement"] or refs["contract"], "client", None)
    missing = [name for name in ("kind", "amount", "currency", "occurred_on") if attributes.get(name) in (None, "")]
    # A fact is recorded whole or not yet: a reference that does not resolve yet waits (facts are immutable).
    missing += [name for name, record in refs.items() if record is None and isinstance(attributes.get(name), Mapping)]
    if client is None and "client" not in missing:
        missing.append("client")
    if missing:
        raise ValidationError({name: ["missing or not resolvable yet"] for name in missing})
    system = source_record.system
    fact = RevenueFact(
        idempotency_key=f"{system.key}:{source_record.object_type}:{source_record.external_id}",
        kind=attributes["kind"], amount=str(attributes["amount"]), currency=str(attributes["currency"]),
        occurred_on=date.fromisoformat(str(attributes["occurred_on"])[:10]), client=client,
        engagement=refs["engagement"], contract=refs["contract"], milestone=refs["milestone"], source_system=system,
        source_reference=str(attributes.get("document") or source_record.external_id),
        description=str(attributes.get("description") or ""),
    )
    event, _ = revenue_event_record(fact=fact, source_records=[source_record], reason=reason)
    return event


def _resolved(model: type, value: Any, system_id: Any) -> Any:
    if not isinstance(value, Mapping):
        return None
    pk = reference_resolve(value=value, system_id=system_id)
    record = model.objects.filter(pk=pk).first() if pk else None
    while record is not None and record.merged_into_id:  # a merged-away record's facts go to its survivor
        record = record.merged_into
    return record
