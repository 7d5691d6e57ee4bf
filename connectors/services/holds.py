"""Deliveries held until their platform has been read through once.

Writing a record into a platform the hub has not read yet would create a second copy of every record the
platform already holds but the hub has not seen. So a delivery into an object whose first pull has not ended is
*held*, unless its golden record already has a copy there: that one is an update of the platform's own record (by
its id, or by the hub's id the hub stamped on it), which creates nothing, and goes out at once (during a bulk
load, while the rest is still being placed). The first pull ends once what it landed is placed; then the object's
held deliveries are released, due at once.

The relay decides to hold under its cursor's lock, and a first pull's end is committed with the release under the
same lock: a relay that read the object as unread commits its held deliveries before the release reads them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from connectors.models import Delivery, DeliveryStatus, Direction, RelayCursor, Stream, Subscription


def _unread_streams():
    return Stream.objects.filter(direction=Direction.INBOUND, enabled=True, last_success_at__isnull=True)


def subscriptions_unread() -> set[Any]:
    """The subscriptions into an object that has an inbound stream whose first pull has not ended."""
    unread = _unread_streams()
    return set(Subscription.objects.filter(
        Exists(unread.filter(system_id=OuterRef("system_id"), object_type=OuterRef("object_type"))))
        .values_list("pk", flat=True))


def object_unread(*, system_id: Any, object_type: str) -> bool:
    return _unread_streams().filter(system_id=system_id, object_type=object_type).exists()


def relay_lock() -> RelayCursor:
    """The relay's cursor, locked until the transaction ends (the caller is in one)."""
    return RelayCursor.objects.select_for_update().get_or_create(name="outbound")[0]


def first_read_ended(*, stream: Stream, at: Any) -> int:
    """Record the stream's first successful pull (at ``at``) and release the deliveries it held, in one
    transaction under the relay's lock; returns how many were released (due now)."""
    with transaction.atomic():
        relay_lock()
        Stream.objects.filter(pk=stream.pk).update(last_success_at=at)
        if object_unread(system_id=stream.system_id, object_type=stream.object_type):
            return 0  # another inbound stream of the object still has its first pull to finish
        return Delivery.objects.filter(
            status=DeliveryStatus.HELD, subscription__system_id=stream.system_id,
            subscription__object_type=stream.object_type,
        ).update(status=DeliveryStatus.PENDING, next_attempt_at=timezone.now())
