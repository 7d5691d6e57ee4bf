"""Outbound: fan golden changes out to subscribing systems, deliver them, retry, dead-letter, replay.

The change feed is the outbox: a change event is written in the transaction that changed the golden
record, and the relay turns each one into a Delivery per subscribing system (a unique constraint makes the
relay safe to run twice). A delivery upserts by the hub's id (the platform's external-id field), so a retry
is harmless; a newer version of a record is never overwritten by an older one (the older delivery is
superseded); failures back off exponentially with jitter, honouring Retry-After, and after MAX_ATTEMPTS the
delivery becomes a dead letter, which an operator can replay.

A delivery keeps the correlation id of the change that caused it, and every attempt runs under it (logs, the
platform request's X-Correlation-ID). Attempts pass the system's circuit breaker (connectors.services.breaker):
while it is open, or the platform has asked for a pause, a due delivery waits without spending an attempt.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from canonical.models import ChangeEvent, SourceRecord
from canonical.registry import model_for
from canonical.services.arrivals import Arrival, source_records_stage
from canonical.services.changes import change_events_sequence
from canonical.services.matching import copy_views_write
from canonical.services.recompute import source_records_attach
from connectors.base import Connector, Upsert, WriteResult
from connectors.errors import ConnectorError, RateLimited, Retryable
from connectors.models import Delivery, DeliveryStatus, RelayCursor, Subscription
from connectors.services.breaker import breaker_admit, breaker_watch, systems_held
from connectors.services.holds import object_unread, relay_lock, subscriptions_unread
from connectors.services.inbound import connector_for
from connectors.services.relay import outbound_relay_on_commit
from hub import correlation
from hub.db import rows_insert, rows_update

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BATCH_SIZE = 200  # Salesforce's composite collections take 200 records a request
DRAIN_BUDGET_S = 10.0  # a drain hands its worker back (and is enqueued again) after this long
BACKOFF_BASE_S = 10.0
BACKOFF_CAP_S = 1800.0
DELIVERED_OPERATIONS = ("created", "updated")
SETTLED_FIELDS = ["status", "attempts", "next_attempt_at", "last_error", "response", "external_id", "delivered_at"]


def _wanted(subscription: Subscription, event: ChangeEvent, copies: Sequence[Mapping[str, Any]]) -> bool:
    """Does the subscription want the event, given the attributes of the copies its system holds of the record?"""
    if not _subscribed(subscription, event):
        return False
    if not copies:
        return True
    fields = _fields(subscription, event.data)
    # The platform already holds these values (often its own change, or ours read back): nothing to send.
    return not any(all(_same(copy.get(k), v) for k, v in fields.items()) for copy in copies)


def _subscribed(subscription: Subscription, event: ChangeEvent) -> bool:
    return (subscription.entity_type == event.entity_type and event.operation in DELIVERED_OPERATIONS
            and all(event.data.get(attribute) == value for attribute, value in subscription.conditions.items()))


def _copies_held(subscriptions: Sequence[Subscription], events: Sequence[ChangeEvent]) -> dict[tuple, list[dict]]:
    """The attributes of the live copies the subscribing systems hold of the events' records, per (system, entity
    type, golden record), read in one query for the whole batch."""
    wanted = [(s, e) for e in events for s in subscriptions if _subscribed(s, e)]
    held: dict[tuple, list[dict]] = defaultdict(list)
    if not wanted:
        return held
    rows = SourceRecord.objects.filter(
        system_id__in={s.system_id for s, _ in wanted}, entity_type__in={e.entity_type for _, e in wanted},
        golden_record_id__any=list({e.record_id for _, e in wanted}), is_deleted=False,
    ).values_list("system_id", "entity_type", "golden_record_id", "attributes")
    for system_id, entity_type, golden_pk, attributes in rows:
        held[(system_id, entity_type, golden_pk)].append(attributes)
    return held


def _same(held: Any, sent: Any) -> bool:
    return (held in (None, "") and sent in (None, "")) or str(held) == str(sent)


def _copies(subscription: Subscription, deliveries: Sequence[Delivery]) -> dict[Any, list[tuple[str, Mapping]]]:
    """Per record, the (platform id, payload) of the live copies the subscribing system holds, oldest first: the
    copies of the whole batch in one query."""
    copies: dict[Any, list[tuple[str, Mapping[str, Any]]]] = defaultdict(list)
    rows = SourceRecord.objects.filter(
        system_id=subscription.system_id, entity_type=subscription.entity_type,
        golden_record_id__any=list({d.record_id for d in deliveries}), is_deleted=False,
    ).order_by("first_seen_at", "external_id").values_list("golden_record_id", "external_id", "payload")
    for golden_pk, external_id, payload in rows:
        copies[golden_pk].append((external_id, payload))
    return copies


def _platform_ids(deliveries: Sequence[Delivery], copies: Mapping[Any, Sequence[tuple[str, Mapping]]],
                  connector: Connector, sent: Mapping[Any, Sent]) -> dict[Any, str]:
    """Per record, the platform's own id of its copy when that copy does not carry the hub's id (the platform
    created it): the write then updates it by that id and stamps the hub's id. A record left out is written by
    the hub's id."""
    ids = {}
    for delivery in deliveries:
        held = copies.get(delivery.record_id)
        hub_id = sent[delivery.pk].golden_id
        if held and not any(connector.held_hub_id(payload) == hub_id for _, payload in held):
            ids[delivery.record_id] = held[0][0]
    return ids


def outbox_relay(*, limit: int = 1000) -> int:
    """Turn new change events into deliveries for every subscription that wants them. Returns how many.

    The batch's copies are read in one query and its deliveries inserted in one; a delivery already made (by a
    relay that ran before) is left as it is and not counted."""
    change_events_sequence()
    with transaction.atomic():
        cursor = relay_lock()
        events = list(ChangeEvent.objects.filter(position__gt=cursor.position).order_by("position")[:limit])
        if not events:
            return 0
        subscriptions = list(Subscription.objects.filter(enabled=True, system__enabled=True))
        held = _copies_held(subscriptions, events)
        unread = subscriptions_unread()  # read under the cursor's lock (see connectors.services.holds)
        now = timezone.now()
        relayed_under = correlation.get() or ""
        deliveries = []
        for event in events:
            for subscription in subscriptions:
                copies = held.get((subscription.system_id, event.entity_type, event.record_id), [])
                if not _wanted(subscription, event, copies):
                    continue
                # Into an object not read through yet, only an update of a copy the platform holds goes out now.
                status = DeliveryStatus.HELD if subscription.pk in unread and not copies else DeliveryStatus.PENDING
                deliveries.append(Delivery(
                    change=event, subscription=subscription, record_id=event.record_id, version=event.version,
                    status=status, next_attempt_at=now, correlation_id=event.correlation_id or relayed_under))
        created = _deliveries_create(deliveries)
        cursor.position = events[-1].position
        cursor.save()
    return created


def _deliveries_create(deliveries: Sequence[Delivery]) -> int:
    """Insert the deliveries, skipping those their (change, subscription) already has; returns how many are new
    (the insert returns the rows it wrote)."""
    if not deliveries:
        return 0
    return len(rows_insert(Delivery, deliveries, ignore_conflicts=True))


def deliveries_due(*, limit: int = 100) -> list[str]:
    """Pending deliveries whose time has come, oldest first; none for a system whose breaker holds it, but
    the oldest one of a system whose breaker is ready to probe (one probe, not a stampede)."""
    now = timezone.now()
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).order_by("next_attempt_at")
    held, probe_due = systems_held(now)
    ids = list(due.exclude(subscription__system_id__in=held).values_list("pk", flat=True)[:limit])
    for system_id in probe_due:
        ids += due.filter(subscription__system_id=system_id).values_list("pk", flat=True)[:1]
    return [str(pk) for pk in ids]


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential (10 s, 30 s, 90 s, ...) with up to 20% jitter, never sooner than the platform asked."""
    delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 3 ** max(attempts - 1, 0))
    delay += random.uniform(0, delay * 0.2)  # noqa: S311 (jitter, not a secret)
    return max(delay, retry_after or 0.0)


def _fields(subscription: Subscription, data: Mapping[str, Any]) -> dict[str, Any]:
    wanted = subscription.fields or [k for k in data if k not in {"id", "golden_id", "version"}]
    return {k: data.get(k) for k in wanted}


def _attempt_conditions(delivery_id: str) -> _Conditions | None:
    """Bind the delivery's correlation id and pass its system's breaker; None when it is not to be tried now
    (not pending or not due any more, or held by the breaker: then no attempt is spent)."""
    target = (Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING,
                                      next_attempt_at__lte=timezone.now())
              .values_list("subscription__system_id", "correlation_id").first())
    if target is None:
        return None
    system_id, correlation_id = target
    with contextlib.ExitStack() as conditions:
        conditions.enter_context(correlation.bind(correlation_id or correlation.get()))
        admission = breaker_admit(system_id=system_id)
        if admission is None:
            logger.info("delivery held: circuit open or platform throttling", extra={"delivery": delivery_id})
            return None
        conditions.enter_context(breaker_watch(admission))
        return _Conditions(conditions.pop_all(), probe=admission.probe)


class _Conditions(contextlib.ExitStack):
    """An attempt's conditions, entered; ``probe``: the breaker admitted it as its one probe."""

    def __init__(self, entered: contextlib.ExitStack, *, probe: bool) -> None:
        super().__init__()
        self.push(entered)
        self.probe = probe


def delivery_attempt(*, delivery_id: str) -> Delivery | None:
    """Deliver one pending, due delivery now (see deliveries_attempt). Idempotent."""
    attempted = deliveries_attempt(delivery_ids=[delivery_id])
    return attempted[0] if attempted else None


def deliveries_attempt(*, delivery_ids: Sequence[str]) -> list[Delivery]:
    """Deliver pending, due deliveries of one subscription in one write (a platform's batch upsert: Salesforce
    composite collections of 200, NetSuite record by record), if no other worker holds them and the system's
    breaker lets them through, under the correlation id of the first one's change. Idempotent: a delivery
    another worker holds, or that is no longer pending and due, is left out. Returns the ones attempted.

    The batch is read, settled and written back with the same few statements whatever its size."""
    if not delivery_ids:
        return []
    conditions = _attempt_conditions(str(delivery_ids[0]))
    if conditions is None:
        return []
    with conditions, transaction.atomic():
        return _attempt(list(_lockable().filter(pk__in=list(delivery_ids)).order_by("version")))


def deliveries_drain(*, subscription_id: Any, size: int = BATCH_SIZE, budget_s: float = DRAIN_BUDGET_S) -> int:
    """Deliver a subscription's due deliveries a batch at a time, oldest first, until none is left to take or
    ``budget_s`` has passed; returns how many were attempted. Each batch takes the due deliveries no other
    worker holds (``SKIP LOCKED``), so drains of one subscription side by side share its backlog instead of
    waiting on each other, and a drain that took a batch never leaves the worker idle while more is due."""
    started = time.monotonic()
    attempted = 0
    while True:
        first = _due(subscription_id).values_list("pk", flat=True).first()
        conditions = _attempt_conditions(str(first)) if first is not None else None
        if conditions is None:  # nothing due, or the platform is not to be written now (breaker, first pull)
            return attempted
        with conditions, transaction.atomic():
            # a probe of a half-open circuit is one delivery, as deliveries_due offers it
            taken = list(_lockable().filter(subscription_id=subscription_id)
                         .order_by("next_attempt_at")[:1 if conditions.probe else size])
            attempted += len(_attempt(sorted(taken, key=lambda d: d.version)))
        if not taken or time.monotonic() - started >= budget_s:
            return attempted


def _due(subscription_id: Any) -> QuerySet[Delivery]:
    return Delivery.objects.filter(subscription_id=subscription_id, status=DeliveryStatus.PENDING,
                                   next_attempt_at__lte=timezone.now()).order_by("next_attempt_at")


def _lockable() -> QuerySet[Delivery]:
    """Pending, due deliveries, locked as read, skipping those another worker holds. Only the deliveries' rows
    (locking the subscription and system rows too would make every other worker delivering to the same platform
    skip its own deliveries as if they were taken), and only they are read: the batch's subscription and its
    changes are read once for the batch (see _attempt), not joined into every row and built as a model each."""
    return (Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()))


@dataclass(frozen=True)
class Sent:
    """What a delivery sends: its change's golden id and data (the record's attributes after the change)."""

    golden_id: str
    data: Mapping[str, Any]


def _sent(deliveries: Sequence[Delivery]) -> dict[Any, Sent]:
    """Per delivery, what its change sends, the batch's changes read in one query (their other columns left)."""
    changes = {pk: Sent(golden_id, data) for pk, golden_id, data in ChangeEvent.objects.filter(
        pk__in={d.change_id for d in deliveries}).values_list("pk", "golden_id", "data")}
    return {d.pk: changes[d.change_id] for d in deliveries}


def _attempt(locked: list[Delivery]) -> list[Delivery]:
    """Send locked deliveries (in version order) in one write: those of the first one's subscription."""
    if not locked:
        return []
    subscription = Subscription.objects.select_related("system").get(pk=locked[0].subscription_id)
    batch = [d for d in locked if d.subscription_id == subscription.pk]
    live = _unsuperseded(subscription, batch)
    if live:
        _deliver(subscription, live, _sent(live))
    rows_update(Delivery, batch, SETTLED_FIELDS)
    return batch


def subscriptions_due() -> list[Any]:
    """The subscriptions with deliveries to send now (as deliveries_due would offer them: none into a system its
    breaker holds, unless its probe is due), the one whose oldest is due first first. One probe of the due index
    per subscription, however many deliveries wait (it runs after every relay and every drain)."""
    now = timezone.now()
    held, probe_due = systems_held(now)
    oldest = (Delivery.objects.filter(subscription_id=OuterRef("pk"), status=DeliveryStatus.PENDING,
                                      next_attempt_at__lte=now)
              .order_by("next_attempt_at").values("next_attempt_at")[:1])
    return list(Subscription.objects.annotate(due=Subquery(oldest)).filter(due__isnull=False)
                .exclude(system_id__in=held - probe_due).order_by("due").values_list("pk", flat=True))


def _unsuperseded(subscription: Subscription, batch: Sequence[Delivery]) -> list[Delivery]:
    """The deliveries to send. One whose record has moved on since its change is never sent: it is marked
    superseded (and saved with the batch). Moved on: a newer version of the record is on its way (or there) to
    this system, or the golden record itself is at a newer version. The relay weighed that version on its own:
    either it is on its way too, or the system held its values already (its own copy joined the record, say,
    while this delivery waited for the system's first pull), or the subscription does not want it; sending the
    older values would overwrite newer ones."""
    records = {d.record_id for d in batch}
    newest = dict(Delivery.objects.filter(
        subscription_id=subscription.pk, record_id__any=list(records),
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.HELD, DeliveryStatus.DELIVERED],
    ).order_by().values("record_id").annotate(newest=Max("version")).values_list("record_id", "newest"))
    model = model_for(subscription.entity_type)
    current = dict(model.objects.filter(pk__any=list(records)).values_list("pk", "version"))
    live = []
    for delivery in batch:
        if max(newest.get(delivery.record_id, 0), current.get(delivery.record_id, 0)) > delivery.version:
            delivery.status = DeliveryStatus.SUPERSEDED
        else:
            live.append(delivery)
    return live


def _deliver(subscription: Subscription, live: Sequence[Delivery], sent: Mapping[Any, Sent]) -> None:
    """One write of the deliveries to the platform; each settles in memory by its own result (the caller saves
    them), and the ids the platform gave are written back to the crosswalk."""
    copies = _copies(subscription, live)
    if any(d.record_id not in copies for d in live) and object_unread(system_id=subscription.system_id,
                                                                      object_type=subscription.object_type):
        # The relay held these while the platform was unread; one made due since (a replay, a copy gone) waits
        # again, no attempt spent: it would create a record the platform may hold unread.
        for delivery in live:
            if delivery.record_id not in copies:
                delivery.status = DeliveryStatus.HELD
        live = [d for d in live if d.record_id in copies]
        if not live:
            return
    connector = connector_for(subscription.system)
    platform_ids = _platform_ids(live, copies, connector, sent)
    upserts = [Upsert(object_type=subscription.object_type, hub_id=sent[d.pk].golden_id,
                      fields=_fields(subscription, sent[d.pk].data), external_id=platform_ids.get(d.record_id))
               for d in live]
    for delivery in live:
        delivery.attempts += 1
    try:
        results = connector.write(upserts)
    except ConnectorError as exc:
        body = exc.body if isinstance(exc.body, dict | list) else {"body": str(exc.body)[:2000]}
        for delivery in live:
            _failed(delivery, str(exc), retryable=isinstance(exc, Retryable),
                    retry_after=exc.retry_after if isinstance(exc, RateLimited) else None, body=body)
        return
    written = []
    for delivery, upsert, result in zip(live, upserts, results, strict=True):
        _settle(delivery, result)
        if result.ok and result.external_id:
            written.append(Written(delivery, sent[delivery.pk], upsert, result.external_id,
                                   connector.written_attributes(upsert)))
    _write_back(subscription, written)


def _settle(delivery: Delivery, result: WriteResult) -> None:
    if not result.ok:
        _failed(delivery, result.error, retryable=result.retryable, body=dict(result.details))
        return
    delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, timezone.now()
    delivery.external_id, delivery.last_error = result.external_id or "", ""
    delivery.response = {"external_id": result.external_id, "created": result.created}


def _failed(delivery: Delivery, error: str, *, retryable: bool, retry_after: float | None = None,
            body: Any = None) -> None:
    delivery.last_error = error[:4000]
    delivery.response = body if isinstance(body, dict) else {"body": body}
    if retry_after is None and isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
        retry_after = float(body["retry_after"])  # a per-record result carries the platform's Retry-After here
    if retryable and delivery.attempts < MAX_ATTEMPTS:
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=backoff_seconds(delivery.attempts, retry_after))
        logger.info("delivery failed, will retry", extra={"delivery": str(delivery.pk), "attempts": delivery.attempts,
                                                           "next_attempt_at": delivery.next_attempt_at.isoformat(),
                                                           "error": error[:300]})
    else:
        delivery.status = DeliveryStatus.DEAD
        logger.warning("delivery dead-lettered", extra={"delivery": str(delivery.pk), "error": error[:300]})


@dataclass(frozen=True)
class Written:
    """A delivered upsert (and what its change sent), the id the platform holds the record under, and the
    attributes it holds now."""

    delivery: Delivery
    sent: Sent
    upsert: Upsert
    external_id: str
    attributes: Mapping[str, Any]


def _write_back(subscription: Subscription, written: Sequence[Written]) -> None:
    """Record the ids the platform gave the records in the crosswalk, attached to their golden records. After an
    update of a record the platform created, its copy records the hub's id now stamped on it and the values
    written, so the next write goes by the hub's id and the next pull of it is the hub's own change.

    A copy new to the crosswalk that holds nothing but the golden record's own values is staged attached: it can
    change none of them (it agrees with each, and is the newest), so the golden record is not recomputed for it
    and keeps its lineage to the copies those values came from. One that holds more (an attribute the platform
    derives, say) is attached as a pulled copy would be, its golden record recomputed. The whole batch is read
    and staged at once."""
    if not written:
        return
    system = subscription.system
    held = {r.external_id: r for r in SourceRecord.objects.filter(
        system=system, object_type=subscription.object_type, external_id__any=[w.external_id for w in written])}
    stamped, new = [], []
    for w in written:
        copy = held.get(w.external_id)
        if copy is None or copy.golden_record_id != w.delivery.record_id:
            new.append((w, Arrival(subscription.object_type, w.external_id, subscription.entity_type, w.attributes,
                                   {"Id": w.external_id, "hub_id": w.upsert.hub_id},
                                   golden_record_id=w.delivery.record_id if copy is None and _agrees(w) else None)))
        elif w.upsert.external_id is not None and copy.payload.get("hub_id") != w.upsert.hub_id:
            values = {k: v for k, v in w.attributes.items() if k in w.upsert.fields}
            stamped.append(Arrival(subscription.object_type, w.external_id, copy.entity_type,
                                   {**copy.attributes, **values}, {**copy.payload, "hub_id": w.upsert.hub_id},
                                   copy.source_modified_at))
    if stamped:
        source_records_stage(system=system, arrivals=stamped, reason=f"hub id stamped in {system.key} by the hub")
    if new:
        # Copies none of which the crosswalk holds (read above) are inserted without reading their rows again.
        staged = source_records_stage(system=system, arrivals=[a for _, a in new],
                                      reason=f"written to {system.key} by the hub",
                                      new=not any(w.external_id in held for w, _ in new))
        pairs = [(s.source_record, w.delivery.record_id) for (w, _), s in zip(new, staged, strict=True)
                 if s.source_record.golden_record_id is None]
        _attach(subscription, pairs)
        # Each holds what the hub wrote: its golden record's values, as the platform maps them (copy_views_write).
        copy_views_write(sources=[s.source_record for s in staged if s.source_record.golden_record_id])


def _agrees(written: Written) -> bool:
    """Does the copy hold only the values the golden record had when its change was written?"""
    data = written.sent.data
    return all(attribute in data and _same(data[attribute], value) for attribute, value in written.attributes.items())


def _attach(subscription: Subscription, pairs: Sequence[tuple[SourceRecord, Any]]) -> None:
    """Attach the copies the hub wrote to their golden records. One whose golden record would not be valid with
    it stays unplaced (as a pulled record would), and the delivery stays delivered: the platform holds it."""
    if not pairs:
        return
    attached = source_records_attach(pairs=pairs, entity_type=subscription.entity_type,
                                     reason=f"id assigned by {subscription.system.key}")
    for golden_pk, error in attached.errors.items():
        logger.warning("copy written by the hub left unplaced",
                       extra={"record": str(golden_pk), "error": str(error)[:300]})
    if any(attached.values()):
        # Bulk writes send no signals: relay the golden changes the new copies made, once this commits.
        outbound_relay_on_commit()


def deliveries_replay(*, deliveries: Iterable[Delivery] | QuerySet[Delivery], actor: str = "") -> int:
    """Give dead letters another run of attempts, now (relayed as soon as this commits). Returns how many;
    anything that is not a dead letter is left alone."""
    if isinstance(deliveries, QuerySet):
        dead = deliveries.filter(status=DeliveryStatus.DEAD)
    else:
        ids = [d.pk for d in deliveries if d.status == DeliveryStatus.DEAD]
        dead = Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.DEAD)
    now = timezone.now()
    count = dead.update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, last_error="",
        replays=F("replays") + 1, replayed_at=now,
    )
    if count:
        logger.info("dead letters replayed", extra={"count": count, "actor": actor})
        outbound_relay_on_commit()
    return count


def outbox_pending() -> str | None:
    """Are there committed changes the relay has not fanned out yet? "sequenced" when some are numbered past its
    cursor (the relay can go on at once), "unsequenced" when the only ones left await their numbers (another
    sequencer is numbering them), None when there are none."""
    position = RelayCursor.objects.filter(name="outbound").values_list("position", flat=True).first() or 0
    if ChangeEvent.objects.filter(position__gt=position).exists():
        return "sequenced"
    return "unsequenced" if ChangeEvent.objects.filter(position__isnull=True).exists() else None
