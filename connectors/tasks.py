"""Celery entry points of the connectors: thin, idempotent, taking ids, one service call each."""

import logging

from celery import shared_task
from django.conf import settings

from connectors.errors import RateLimited, Retryable
from connectors.models import Direction, RunStatus, Stream
from connectors.services.breaker import breaker_admit, breaker_watch
from connectors.services.inbound import StreamBusy, stream_sync
from connectors.services.outbound import (
    deliveries_attempt,
    deliveries_drain,
    delivery_attempt,
    outbox_pending,
    outbox_relay,
    subscriptions_due,
)
from connectors.services.relay import (
    deliveries_drain_soon,
    deliveries_drain_started,
    outbound_relay_soon,
    outbound_relay_started,
)
from connectors.services.webhooks import webhook_process

logger = logging.getLogger(__name__)

MAX_RETRIES = 8
# Backoff caps stay far below the broker's visibility timeout, so a waiting retry is never redelivered.
MAX_BACKOFF_S = 600


@shared_task(name="connectors.tasks.inbound_stream_sync_task", bind=True, acks_late=True, ignore_result=True,
             max_retries=MAX_RETRIES)
def inbound_stream_sync_task(self, stream_id: str, full: bool = False) -> int:
    """Pull one stream. A stream busy elsewhere is skipped (the other worker is doing the work), and so is a
    system whose circuit breaker is open (beat pulls it again; one pull may be the breaker's probe). A run stops
    at CONCORD_RUN_BUDGET_S, well within the task's time limit, and is continued by another (a first read of a
    large object would otherwise be cut off by the limit, and then again, and never end)."""
    stream = Stream.objects.select_related("system").get(pk=stream_id)
    admission = breaker_admit(system_id=stream.system_id)
    if admission is None:
        logger.info("stream held: circuit open or platform throttling", extra={"stream": stream_id})
        return 0
    try:
        with breaker_watch(admission):
            run = stream_sync(stream=stream, full=full, budget_s=settings.CONCORD_RUN_BUDGET_S)
    except StreamBusy:
        logger.info("stream busy, skipped", extra={"stream": stream_id})
        return 0
    except Retryable as exc:
        wait = exc.retry_after if isinstance(exc, RateLimited) and exc.retry_after else 2 ** self.request.retries * 5
        raise self.retry(exc=exc, countdown=min(wait, MAX_BACKOFF_S)) from exc
    if run.status == RunStatus.PARTIAL:  # stopped at its budget: the next run goes on at once, from its cursor
        inbound_stream_sync_task.delay(stream_id)
    return run.received


@shared_task(name="connectors.tasks.inbound_schedule_task", acks_late=True, ignore_result=True)
def inbound_schedule_task() -> int:
    """Enqueue a pull of every enabled inbound stream of every enabled system (run by beat)."""
    streams = Stream.objects.filter(enabled=True, direction=Direction.INBOUND, system__enabled=True)
    count = 0
    for stream_id in streams.values_list("pk", flat=True):
        inbound_stream_sync_task.delay(str(stream_id))
        count += 1
    return count


@shared_task(name="connectors.tasks.inbound_webhook_process_task", acks_late=True, ignore_result=True)
def inbound_webhook_process_task(event_id: str) -> str:
    """Apply a stored webhook event (idempotent: a processed event is not applied again)."""
    return webhook_process(event_id=event_id).status


@shared_task(name="connectors.tasks.outbound_relay_task", acks_late=True, ignore_result=True)
def outbound_relay_task() -> int:
    """Fan new golden changes out into deliveries, then deliver what is due. Enqueued after each commit
    that changed golden records (connectors.services.relay), and run by beat as the net."""
    outbound_relay_started()
    created = outbox_relay()
    for subscription_id in subscriptions_due():
        deliveries_drain_soon(subscription_id=subscription_id)
    pending = outbox_pending()
    if pending == "sequenced":  # more than one batch (a bulk load's thousands of changes): go on at once
        outbound_relay_soon()
    elif pending:  # changes another sequencer is still numbering: look again in a second
        outbound_relay_soon(countdown=1)
    return created


@shared_task(name="connectors.tasks.outbound_drain_task", acks_late=True, ignore_result=True)
def outbound_drain_task(subscription_id: str, slot: int = 0) -> int:
    """Deliver a subscription's due deliveries, a batch a write, for up to DRAIN_BUDGET_S; enqueued again
    at once when it stopped with more to send. Returns how many were attempted."""
    deliveries_drain_started(subscription_id=subscription_id, slot=slot)
    attempted = deliveries_drain(subscription_id=subscription_id)
    if attempted and subscription_id in {str(s) for s in subscriptions_due()}:
        deliveries_drain_soon(subscription_id=subscription_id)
    return attempted


@shared_task(name="connectors.tasks.outbound_deliveries_task", acks_late=True, ignore_result=True)
def outbound_deliveries_task(delivery_ids: list[str]) -> int:
    """Attempt a batch of one subscription's deliveries in one write; returns how many were attempted."""
    return len(deliveries_attempt(delivery_ids=delivery_ids))


@shared_task(name="connectors.tasks.outbound_delivery_task", acks_late=True, ignore_result=True)
def outbound_delivery_task(delivery_id: str) -> str:
    """Attempt one delivery; its retries are scheduled in the database, not in the broker."""
    delivery = delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery else "skipped"
