"""What the steward console needs beyond the task services: a potential match laid out side by side, a
merge that keeps, for every conflicting attribute, the value the steward picked, and a sync-failure sweep
that can store what it raises.

``steward_task_merge``'s ``keep`` pins values read from the merged-away record as they are held on the model
(a Decimal, a date, a related record), which the overrides' JSON cannot store, and it cannot keep the
survivor's own value when survivorship would hand the attribute to the merged record's sources. So the
console merges through ``steward_task_decide`` and then pins, in the same transaction, every picked value
the merged record does not already hold, as a JSON-safe value with the same reason ``keep`` would give.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import OuterRef
from django.utils import timezone

from canonical import survivorship
from canonical.models import PotentialMatch, SourceRecord
from canonical.services.golden import golden_record_override_set
from connectors.models import Delivery, DeliveryStatus, Stream, WebhookEvent, WebhookStatus
from stewardship.models import Priority, Resolution, StewardTask, TaskKind
from stewardship.models.tasks import ACTIVE_STATUSES
from stewardship.services.decisions import potential_match_pair, steward_task_decide
from stewardship.services.sweeps import PARKED_GRACE, _task_exists
from stewardship.services.tasks import (
    Subject,
    actor_label,
    steward_task_cause_gone,
    steward_task_raise,
    steward_tasks_settle,
)

SIDES = ("a", "b")


def value_plain(value: Any) -> Any:
    """A golden value as JSON holds it: a related record by its id, money and dates as text."""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Decimal | dt.date | uuid.UUID):
        return str(value)
    return value


def value_present(value: Any) -> bool:
    return value is not None and value != ""


def value_same(a: Any, b: Any) -> bool:
    a, b = value_plain(a), value_plain(b)
    return (not value_present(a) and not value_present(b)) or str(a) == str(b)


@dataclass(frozen=True)
class SourceView:
    """One platform's copy of a record, as the console lists it."""

    id: str
    system: str
    object_type: str
    external_id: str
    is_deleted: bool
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class SideValue:
    value: Any
    system: str = ""  # the platform whose copy gave the golden value (lineage)
    rule: str = ""
    systems: tuple[str, ...] = ()  # every active copy holding this value
    others: tuple[tuple[str, Any], ...] = ()  # copies of this record that say something else


@dataclass(frozen=True)
class CompareRow:
    attribute: str
    label: str
    a: SideValue
    b: SideValue
    rules_value: Any  # what survivorship gives the merged record from both records' copies
    rules_system: str
    rules_rule: str

    @property
    def differs(self) -> bool:
        return not value_same(self.a.value, self.b.value)

    @property
    def conflict(self) -> bool:
        """Both records hold a value and they differ: the steward may pick the one that survives."""
        return self.differs and value_present(value_plain(self.a.value)) and value_present(value_plain(self.b.value))

    @property
    def rules_side(self) -> str:
        """Which record's value the rules keep ("a", "b", "" when neither, "ab" when both agree)."""
        return "".join(side for side, v in zip(SIDES, (self.a, self.b), strict=True)
                       if value_present(self.rules_value) and value_same(v.value, self.rules_value))


@dataclass(frozen=True)
class PairComparison:
    task: StewardTask
    match: PotentialMatch
    a: Any
    b: Any
    rows: list[CompareRow]
    sources: Mapping[str, list[SourceView]] = field(default_factory=dict)

    @property
    def conflicts(self) -> list[CompareRow]:
        return [row for row in self.rows if row.conflict]

    @property
    def contributions(self) -> list[tuple[str, str, float]]:
        """(comparison, level, weight) per compared field, strongest evidence first."""
        rows = [(name, str(c.get("level", "")), float(c.get("weight") or 0))
                for name, c in (self.match.contributions or {}).items()]
        return sorted(rows, key=lambda r: (-abs(r[2]), r[0]))


def _sources(record: Any) -> list[SourceRecord]:
    return list(SourceRecord.objects.filter(entity_type=record.ENTITY_TYPE, golden_record_id=record.pk)
                .select_related("system").order_by("system__key", "external_id"))


def _side(record: Any, attribute: str, sources: Sequence[SourceRecord]) -> SideValue:
    value = getattr(record, attribute)
    lineage = (record.lineage or {}).get(attribute, {})
    holding, others = [], []
    for source in sources:
        if source.is_deleted or attribute not in source.attributes:
            continue
        raw = source.attributes.get(attribute)
        if isinstance(raw, Mapping):  # a reference to a related record: the lineage says which copy gave it
            continue
        if value_same(raw, value):
            holding.append(source.system.key)
        elif value_present(raw):
            others.append((source.system.key, raw))
    return SideValue(value=value, system=lineage.get("system") or "", rule=lineage.get("rule") or "",
                     systems=tuple(dict.fromkeys(holding)), others=tuple(others))


def _rules(entity_type: str, attributes: Sequence[str], sources: Sequence[SourceRecord]) -> dict:
    views = [survivorship.SourceValues(source_record_id=str(s.pk), system_kind=s.system.kind, system_key=s.system.key,
                                       modified_at=s.source_modified_at, attributes=s.attributes)
             for s in sources if not s.is_deleted]
    return survivorship.survive(entity_type, attributes, views)


def potential_match_compare(*, task: StewardTask) -> PairComparison:
    """Both records of a potential-match task, attribute by attribute, with where each value came from."""
    a, b = potential_match_pair(task)
    model = type(a)
    sources = {"a": _sources(a), "b": _sources(b)}
    rules = _rules(model.ENTITY_TYPE, model.SURVIVED_ATTRIBUTES, sources["a"] + sources["b"])
    rows = []
    for attribute in model.SURVIVED_ATTRIBUTES:
        survivor = rules.get(attribute)
        rows.append(CompareRow(
            attribute=attribute, label=str(model._meta.get_field(attribute).verbose_name),
            a=_side(a, attribute, sources["a"]), b=_side(b, attribute, sources["b"]),
            rules_value=survivor.value if survivor else None, rules_system=survivor.system or "" if survivor else "",
            rules_rule=survivor.rule if survivor else "",
        ))
    views = {side: [SourceView(str(s.pk), s.system.key, s.object_type, s.external_id, s.is_deleted, s.attributes)
                    for s in found] for side, found in sources.items()}
    return PairComparison(task=task, match=task.potential_match, a=a, b=b, rows=rows, sources=views)


def steward_task_merge_keeping(*, task: StewardTask, survivor: str, keep: Mapping[str, str], reason: str,
                               user: AbstractBaseUser | None) -> Any:
    """Merge a potential match into ``survivor`` ("a" or "b"); ``keep`` maps an attribute to the record
    ("a" or "b") whose value must survive. Attributes left out are decided by the survivorship rules."""
    if survivor not in SIDES:
        raise ValidationError({"survivor": ["pick the record that survives: a or b"]})
    wrong = sorted(attribute for attribute, side in keep.items() if side not in SIDES)
    if wrong:
        raise ValidationError({"keep": [f"pick a or b for {', '.join(wrong)}"]})
    with transaction.atomic():
        pair = dict(zip(SIDES, potential_match_pair(task), strict=True))
        model = type(pair["a"])
        unknown = sorted(a for a in keep if a not in model.SURVIVED_ATTRIBUTES)
        if unknown:
            raise ValidationError({"keep": [f"not an attribute of a {model.ENTITY_TYPE}: {', '.join(unknown)}"]})
        chosen = {attribute: (pair[side], value_plain(getattr(pair[side], attribute)))
                  for attribute, side in keep.items()}
        steward_task_decide(task=task, decision="merge", survivor=survivor, reason=reason, user=user)
        record = model.objects.get(pk=pair[survivor].pk)
        who = actor_label(user)
        for attribute, (origin, value) in chosen.items():
            if value_same(getattr(record, attribute), value):
                continue
            golden_record_override_set(record=record, attribute=attribute, value=value, actor=who,
                                       reason=f"kept from {origin.golden_id} at merge: {reason}")
            record.refresh_from_db()
    return record


# --- the sync-failure sweep, run from the console --------------------------------------------------------------
# stewardship.services.sweeps.sync_failure_tasks_sync puts ``<x>.system_id`` (a ConnectedSystem's UUID) into each
# task's details, which the details' JSON cannot store: it fails as soon as there is any sync failure to raise.
# Until it names systems by key, the console sweeps sync failures through this version of it (same cause keys,
# same outcomes, systems by key); beat keeps calling the service.

def _delivery_details(delivery: Delivery) -> dict:
    change = delivery.change
    return {"system": delivery.subscription.system.key, "object_type": delivery.subscription.object_type,
            "entity_type": change.entity_type, "version": delivery.version, "attempts": delivery.attempts,
            "error": delivery.last_error, "response": delivery.response, "payload": change.data,
            "correlation_id": change.correlation_id}


def sync_failure_tasks_refresh() -> dict[str, int]:
    """Dead letters, failing streams, unreadable webhooks and long-parked source records, as tasks."""
    opened = resolved = 0
    dead = (Delivery.objects.filter(status=DeliveryStatus.DEAD)
            .exclude(_task_exists(TaskKind.SYNC_FAILURE, delivery=OuterRef("pk")))
            .select_related("change", "subscription__system"))
    for delivery in dead.iterator(chunk_size=200):
        change, system = delivery.change, delivery.subscription.system
        opened += steward_task_raise(
            kind=TaskKind.SYNC_FAILURE, cause_key=f"delivery:{delivery.pk}",
            title=f"Not delivered to {system.key}: {change.entity_type} {change.golden_id}",
            domain=change.entity_type, subjects=[Subject(change.record_id, change.golden_id)],
            priority=Priority.HIGH, details=_delivery_details(delivery), delivery=delivery,
        )[1]
    settled = (StewardTask.objects.filter(kind=TaskKind.SYNC_FAILURE, status__in=ACTIVE_STATUSES,
                                          cause_key__startswith="delivery:")
               .exclude(delivery__status__in=[DeliveryStatus.DEAD, DeliveryStatus.PENDING]).select_related("delivery"))
    for task in settled:
        delivered = task.delivery is not None and task.delivery.status == DeliveryStatus.DELIVERED
        resolved += steward_task_cause_gone(
            kind=task.kind, cause_key=task.cause_key,
            resolution=Resolution.REPLAYED if delivered else Resolution.CAUSE_GONE,
            note="delivered on replay" if delivered else "a newer version replaced this delivery",
        ) is not None

    causes: dict[str, dict[str, dict]] = {"stream:": {}, "webhook:": {}, "parked:": {}}
    for stream in Stream.objects.exclude(last_error="").select_related("system"):
        causes["stream:"][f"stream:{stream.pk}"] = {
            "title": f"Pull failing: {stream.system.key} {stream.object_type}", "priority": Priority.HIGH,
            "details": {"system": stream.system.key, "object_type": stream.object_type, "error": stream.last_error}}
    for event in WebhookEvent.objects.filter(status=WebhookStatus.FAILED).select_related("system"):
        causes["webhook:"][f"webhook:{event.pk}"] = {
            "title": f"Webhook not applied: {event.system.key} {event.event_id}",
            "details": {"system": event.system.key, "object_type": event.object_type, "error": event.error,
                        "payload": event.body, "correlation_id": event.correlation_id}}
    parked = SourceRecord.objects.filter(golden_record_id__isnull=True, is_deleted=False,
                                         first_seen_at__lt=timezone.now() - PARKED_GRACE).select_related("system")
    for source in parked:
        causes["parked:"][f"parked:{source.pk}"] = {
            "title": f"Waiting for a record it refers to: {source.system.key} {source.object_type} "
                     f"{source.external_id}",
            "domain": source.entity_type, "priority": Priority.NORMAL,
            "details": {"system": source.system.key, "object_type": source.object_type,
                        "external_id": source.external_id, "payload": source.payload}}
    notes = {"stream:": "the stream pulled successfully", "webhook:": "the event was applied",
             "parked:": "the record was placed"}
    for prefix, present in causes.items():
        for key, raised in present.items():
            opened += steward_task_raise(kind=TaskKind.SYNC_FAILURE, cause_key=key, **raised)[1]
        resolved += steward_tasks_settle(kind=TaskKind.SYNC_FAILURE, prefix=prefix, present=present,
                                         note=notes[prefix])
    return {"opened": opened, "resolved": resolved}
