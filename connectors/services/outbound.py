"""Outbound: fan golden changes out to subscribing systems, deliver them, retry, dead-letter, replay.

The change feed is the outbox: a change event is written in the transaction that changed the golden
record, and the relay turns each one into a Delivery per subscribing system (a unique constraint makes the
relay safe to run twice). A delivery upserts by the hub's id (the platform's external-id field), so a retry
is harmless; a newer version of a record is never overwritten by an older one (the older delivery is
superseded); failures back off exponentially with jitter, honouring Retry-After, and after MAX_ATTEMPTS the
delivery becomes a dead letter, which an operator can replay.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from canonical.models import ChangeEvent, SourceRecord
from canonical.registry import model_for
from canonical.services.changes import change_events_sequence
from canonical.services.golden import source_record_attach, source_record_stage
from connectors.base import Upsert
from connectors.errors import ConnectorError, RateLimited, Retryable
from connectors.models import Delivery, DeliveryStatus, RelayCursor, Subscription
from connectors.services.inbound import connector_for

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 10.0
BACKOFF_CAP_S = 1800.0
DELIVERED_OPERATIONS = ("created", "updated")


def _wanted(subscription: Subscription, event: ChangeEvent) -> bool:
    if subscription.entity_type != event.entity_type or event.operation not in DELIVERED_OPERATIONS:
        return False
    if not all(event.data.get(attribute) == value for attribute, value in subscription.conditions.items()):
        return False
    copies = list(SourceRecord.objects.filter(system_id=subscription.system_id, entity_type=event.entity_type,
                                              golden_record_id=event.record_id, is_deleted=False))
    if not copies:
        return True
    fields = _fields(subscription, event.data)
    if any(all(_same(copy.attributes.get(k), v) for k, v in fields.items()) for copy in copies):
        return False  # the platform already holds these values (often its own change, or ours read back)
    # A copy the hub wrote carries the hub's id in the platform, so an upsert by that id updates it. A copy
    # the platform made itself has no hub id yet: writing would create a second record there.
    return any(copy.payload.get("hub_id") for copy in copies)


def _same(held: Any, sent: Any) -> bool:
    return (held in (None, "") and sent in (None, "")) or str(held) == str(sent)


def outbox_relay(*, limit: int = 1000) -> int:
    """Turn new change events into deliveries for every subscription that wants them. Returns how many."""
    change_events_sequence()
    created = 0
    with transaction.atomic():
        cursor, _ = RelayCursor.objects.select_for_update().get_or_create(name="outbound")
        events = list(ChangeEvent.objects.filter(position__gt=cursor.position).order_by("position")[:limit])
        subscriptions = list(Subscription.objects.filter(enabled=True, system__enabled=True))
        now = timezone.now()
        for event in events:
            for subscription in subscriptions:
                if _wanted(subscription, event):
                    _, made = Delivery.objects.get_or_create(
                        change=event, subscription=subscription,
                        defaults={"record_id": event.record_id, "version": event.version, "next_attempt_at": now},
                    )
                    created += made
            cursor.position = event.position
        cursor.save()
    return created


def deliveries_due(*, limit: int = 100) -> list[str]:
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
    return [str(pk) for pk in due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit]]


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential (10 s, 30 s, 90 s, ...) with up to 20% jitter, never sooner than the platform asked."""
    delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 3 ** max(attempts - 1, 0))
    delay += random.uniform(0, delay * 0.2)  # noqa: S311 (jitter, not a secret)
    return max(delay, retry_after or 0.0)


def _fields(subscription: Subscription, data: Mapping[str, Any]) -> dict[str, Any]:
    wanted = subscription.fields or [k for k in data if k not in {"id", "golden_id", "version"}]
    return {k: data.get(k) for k in wanted}


def delivery_attempt(*, delivery_id: str) -> Delivery | None:
    """Deliver one pending delivery now (if no other worker holds it). Idempotent."""
    with transaction.atomic():
        # Only the delivery's row: locking the joined subscription and system rows too would make every other
        # worker delivering to the same platform skip its own delivery as if it were taken.
        delivery = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("change", "subscription__system")
                    .filter(pk=delivery_id, status=DeliveryStatus.PENDING).first())
        if delivery is None:
            return None
        subscription = delivery.subscription
        if Delivery.objects.filter(subscription=subscription, record_id=delivery.record_id,
                                   version__gt=delivery.version, status__in=[DeliveryStatus.PENDING,
                                                                             DeliveryStatus.DELIVERED]).exists():
            delivery.status = DeliveryStatus.SUPERSEDED
            delivery.save(update_fields=["status"])
            return delivery
        change = delivery.change
        upsert = Upsert(object_type=subscription.object_type, hub_id=change.golden_id,
                        fields=_fields(subscription, change.data))
        delivery.attempts += 1
        connector = connector_for(subscription.system)
        try:
            result = connector.write([upsert])[0]
        except ConnectorError as exc:
            _failed(delivery, str(exc), retryable=isinstance(exc, Retryable),
                    retry_after=exc.retry_after if isinstance(exc, RateLimited) else None,
                    body=exc.body if isinstance(exc.body, dict | list) else {"body": str(exc.body)[:2000]})
            return delivery
        if not result.ok:
            _failed(delivery, result.error, retryable=result.retryable, body=dict(result.details))
            return delivery
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, timezone.now()
        delivery.external_id, delivery.last_error = result.external_id or "", ""
        delivery.response = {"external_id": result.external_id, "created": result.created}
        delivery.save()
        if result.external_id:
            _write_back(delivery, upsert, result.external_id, connector.written_attributes(upsert))
    return delivery


def _failed(delivery: Delivery, error: str, *, retryable: bool, retry_after: float | None = None,
            body: Any = None) -> None:
    delivery.last_error = error[:4000]
    delivery.response = body if isinstance(body, dict) else {"body": body}
    if retryable and delivery.attempts < MAX_ATTEMPTS:
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=backoff_seconds(delivery.attempts, retry_after))
    else:
        delivery.status = DeliveryStatus.DEAD
        logger.warning("delivery dead-lettered", extra={"delivery": str(delivery.pk), "error": error[:300]})
    delivery.save()


def _write_back(delivery: Delivery, upsert: Upsert, external_id: str, attributes: Mapping[str, Any]) -> None:
    """Record the id the platform gave the record in the crosswalk, attached to its golden record."""
    system = delivery.subscription.system
    key = {"system": system, "object_type": upsert.object_type, "external_id": external_id}
    if SourceRecord.objects.filter(**key, golden_record_id=delivery.record_id).exists():
        return
    staged = source_record_stage(
        **key, entity_type=delivery.change.entity_type, attributes=attributes,
        payload={"Id": external_id, "hub_id": upsert.hub_id}, reason=f"written to {system.key} by the hub",
    ).source_record
    if staged.golden_record_id is None:
        record = model_for(delivery.change.entity_type).objects.get(pk=delivery.record_id)
        source_record_attach(source_record=staged, record=record, reason=f"id assigned by {system.key}")


def deliveries_replay(*, deliveries: Iterable[Delivery]) -> int:
    """Give dead letters another run of attempts, now."""
    ids = [d.pk for d in deliveries if d.status == DeliveryStatus.DEAD]
    return Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.DEAD).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )
