"""Prompt relay: a golden change reaches the subscribing platforms seconds after its transaction commits.

Every committed transaction that wrote a change event (an inbound page, a webhook, a steward's merge...)
enqueues the outbound relay once, after commit. Bursts collapse into one waiting relay through a Redis
flag (``SET NX``): the relay clears it before it reads the change feed, so a change committed after that
enqueues the next relay, and one committed before it is in this one. Beat's schedule stays as the net for
anything lost on the way (a broker restart, a failed enqueue).
"""

from __future__ import annotations

import logging

from celery import current_app
from django.core.cache import cache
from django.db import connection, transaction

from connectors.models import Subscription

logger = logging.getLogger(__name__)

RELAY_TASK = "connectors.tasks.outbound_relay_task"
DRAIN_TASK = "connectors.tasks.outbound_drain_task"
PENDING_KEY = "connectors:outbound-relay:pending"
DRAIN_KEY = "connectors:outbound-drain:{subscription}:{slot}"
#: Drains of one subscription at once (each takes batches no other holds): one per outbound worker process is
#: what keeps them all busy on one platform's backlog.
DRAINERS = 2
#: A lost relay task holds the flag at most this long (beat relays meanwhile).
PENDING_TTL_S = 30


def outbound_relay_soon(*, countdown: float | None = None) -> bool:
    """Enqueue the relay unless one is already waiting. True when this call enqueued it."""
    if not Subscription.objects.filter(enabled=True, system__enabled=True).exists():
        return False
    if not cache.add(PENDING_KEY, "1", timeout=PENDING_TTL_S):
        return False
    try:
        current_app.send_task(RELAY_TASK, countdown=countdown)
    except Exception:
        cache.delete(PENDING_KEY)
        raise
    return True


def deliveries_drain_soon(*, subscription_id: object) -> int:
    """Enqueue drains of the subscription's due deliveries, up to DRAINERS waiting at once (a Redis flag each,
    as the relay's): the relay asks for them whenever it finds deliveries due, however often. Returns how many
    it enqueued."""
    enqueued = 0
    for slot in range(DRAINERS):
        key = DRAIN_KEY.format(subscription=subscription_id, slot=slot)
        if not cache.add(key, "1", timeout=PENDING_TTL_S):
            continue
        try:
            current_app.send_task(DRAIN_TASK, args=[str(subscription_id), slot])
        except Exception:
            cache.delete(key)
            raise
        enqueued += 1
    return enqueued


def deliveries_drain_started(*, subscription_id: object, slot: int) -> None:
    """A drain is about to look for due deliveries: deliveries due from now on may need another drain."""
    cache.delete(DRAIN_KEY.format(subscription=subscription_id, slot=slot))


def outbound_relay_started() -> None:
    """The relay is about to read the change feed: changes committed from now on need another relay."""
    cache.delete(PENDING_KEY)


def outbound_relay_on_commit() -> None:
    """Relay promptly once the current transaction commits; registered once however many changes it makes."""
    # Django keeps the callbacks of the open transaction as (savepoint ids, callback, robust); a callback
    # whose savepoint rolled back is dropped from it, so finding ours there means it will still run.
    pending = getattr(connection, "run_on_commit", None) or ()
    if connection.in_atomic_block and any(entry[1] is _relay_after_commit for entry in pending):
        return
    transaction.on_commit(_relay_after_commit, robust=True)


def _relay_after_commit() -> None:
    try:
        outbound_relay_soon()
    except Exception as exc:  # the change is committed; beat's relay delivers it
        logger.warning("prompt relay not enqueued", extra={"error": f"{exc.__class__.__name__}: {exc}"[:300]})
