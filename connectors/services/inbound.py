"""Inbound sync: pull a stream's changes page by page, stage and match each page, advance the cursor.

Each page commits in one transaction with the cursor that follows it, so a crash resumes at the last
committed page and a page read twice changes nothing (an unchanged payload hash is a no-op). Time cursors
overlap by a window (platform timestamps are coarse and rollups bump them); records already seen are
deduplicated by the payload hash. Only one worker pulls a stream at a time: a PostgreSQL advisory lock
keyed by the stream, held for the run, refuses a second puller, whichever process or machine it runs on.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from psycopg.errors import DeadlockDetected

from canonical.models import ConnectedSystem, RevenueEvent, SourceRecord
from canonical.registry import model_for
from canonical.services.arrivals import (
    Arrival,
    arrivals_changing,
    source_records_match,
    source_records_prepare,
    source_records_repayload,
    source_records_stage,
)
from canonical.services.golden import (
    source_record_mark_deleted,
    source_record_stage,
    unresolved_entity_types,
    unresolved_references_recompute,
)
from canonical.services.landing import (
    ANALYZE_AFTER,
    bulk_load_analyze,
    landed_entity_types,
    landed_sources_place,
    source_records_land,
)
from canonical.services.matching import (
    copy_views_write,
    match_claims_acquire,
    match_lock_acquire,
    parked_sources_match,
    source_record_match,
)
from canonical.services.recompute import source_records_attach
from connectors.base import Connector, Page
from connectors.errors import ConnectorError
from connectors.models import Delivery, RunStatus, Stream, SyncRun
from connectors.registry import connector_class
from connectors.services.holds import first_read_ended
from connectors.services.relay import outbound_relay_on_commit
from hub import correlation

logger = logging.getLogger(__name__)


DEADLOCK_ATTEMPTS = 3
# A first read places what it landed every so many records (when no other transaction is matching the type),
# not only at its end: the placing (one process, under the type's lock) then overlaps the landing of the pages
# that follow and of other streams' pages, which take no lock.
PLACE_EVERY = 10_000
ABANDONED = "abandoned: its worker stopped before the run finished; the next run resumed from its last page"


class StreamBusy(Exception):
    """Another worker is pulling this stream right now."""


@dataclass
class PageCounts:
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    parked: int = 0
    landed: int = 0


def connector_for(system: ConnectedSystem) -> Connector:
    return connector_class(system.kind)(base_url=system.base_url, config=system.config)


def _lock_key(stream: Stream) -> int:
    return int.from_bytes(hashlib.sha256(f"stream:{stream.pk}".encode()).digest()[:8], "big", signed=True)


def _try_lock(stream: Stream) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_lock_key(stream)])
        return bool(cursor.fetchone()[0])


def _unlock(stream: Stream) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(stream)])


def stream_page_apply(*, stream: Stream, page: Page, run: SyncRun, deletions: bool = False,
                      advance_cursor: bool = True, land: bool = False) -> PageCounts:
    """Stage (or delete) one page's records, match what changed, and move the cursor: one transaction.

    A webhook's records come with ``advance_cursor=False``: the pull cursor is the pull's alone. With ``land``
    (a stream's first read), records new to the hub are landed, to be placed together when the read ends
    (canonical.services.landing); the others are matched as they come. A page chosen
    as a deadlock's victim (two pages joining the same golden records in opposite orders) is applied again:
    its transaction left nothing behind."""
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            return _page_apply(stream, page, run, deletions=deletions, advance_cursor=advance_cursor, land=land)
        except OperationalError as exc:
            if not isinstance(exc.__cause__, DeadlockDetected) or attempt == DEADLOCK_ATTEMPTS:
                raise
            logger.info("page chosen as a deadlock victim, applied again",
                        extra={"stream": str(stream.pk), "attempt": attempt})
    raise AssertionError("unreachable")


def _page_apply(stream: Stream, page: Page, run: SyncRun, *, deletions: bool, advance_cursor: bool,
                land: bool) -> PageCounts:
    counts = PageCounts(received=len(page.changes))
    one_at_a_time = deletions or any(change.deleted for change in page.changes)
    arrivals = [] if one_at_a_time else _arrivals(page)
    hub_ids = {(c.object_type, c.external_id): c.hub_id for c in page.changes if c.hub_id}
    known: dict[tuple[str, str], Any] = {}
    if arrivals:
        # Records whose payload the hub holds already change nothing (an overlap window read again, the hub's
        # own writes read back): left out before any lock is taken.
        changing = arrivals_changing(system=stream.system, arrivals=arrivals)
        counts.unchanged += len(arrivals) - len(changing.arrivals)
        arrivals, known = changing.arrivals, changing.held
    with transaction.atomic():
        if one_at_a_time:
            # Before any row lock of the page (see match_lock_acquire): pages of one entity type apply one at a time.
            match_lock_acquire(entity_types=[c.entity_type for c in page.changes if not (deletions or c.deleted)])
            _apply_one_at_a_time(stream, page, counts, deletions=deletions)
        elif arrivals:
            _apply_in_bulk(stream, arrivals, counts, known=known, land=land, hub_ids=hub_ids)
        if advance_cursor:
            field = "deleted_cursor" if deletions else "cursor"
            Stream.objects.filter(pk=stream.pk).update(**{field: page.cursor})
        SyncRun.objects.filter(pk=run.pk).update(
            pages=F("pages") + 1, received=F("received") + counts.received, created=F("created") + counts.created,
            updated=F("updated") + counts.updated, unchanged=F("unchanged") + counts.unchanged,
            deleted=F("deleted") + counts.deleted, errors=F("errors") + counts.parked,
            cursor_after=page.cursor if not deletions else F("cursor_after"),
        )
        if counts.created or counts.updated or counts.deleted:
            # Bulk writes send no signals: ask for the relay explicitly (once per transaction, after commit).
            outbound_relay_on_commit()
    return counts


def _arrivals(page: Page) -> list[Arrival]:
    return [Arrival(object_type=c.object_type, external_id=c.external_id, entity_type=c.entity_type,
                    attributes=c.attributes, payload=c.payload, source_modified_at=c.modified_at)
            for c in page.changes]


def _apply_in_bulk(stream: Stream, arrivals: Sequence[Arrival], counts: PageCounts, *,
                   known: Mapping[tuple[str, str], Any], land: bool = False,
                   hub_ids: Mapping[tuple[str, str], str] | None = None) -> None:
    """Stage the page in bulk, then match what is new or changed, in page order. An attached copy whose
    attributes are as they were (only its payload changed: the hub's own write read back, say) keeps its match
    view and its golden record as they are.

    Staging and working out the match views need no matching lock: they are done before it is taken, while
    another page may be matching. Then the page claims the keys its matching may look up (small pages sharing
    no key with another are matched side by side) or, for a bulk page, takes the lock whole. The one page that
    may then wait for this page's rows (the same records arriving by a webhook as they are pulled) is the victim
    of a deadlock PostgreSQL breaks, and is applied again (stream_page_apply)."""
    reason = f"pulled from {stream.system.key}"
    # The hub's own writes read back (and other changes of nothing it maps) are written without reading their rows.
    light = source_records_repayload(system=stream.system, arrivals=arrivals, held=known) if known else set()
    if light:
        counts.updated += len(light)
        arrivals = [a for a in arrivals if (a.object_type, str(a.external_id)) not in light]
        known = {key: pk for key, pk in known.items() if key not in light}
        if not arrivals:
            return
    staged = source_records_stage(system=stream.system, arrivals=arrivals, reason=reason, known=known)
    changed = [s for s in staged if s.changed]
    counts.unchanged += len(staged) - len(changed)
    counts.created += sum(s.created for s in changed)
    counts.updated += sum(not s.created for s in changed)
    to_match = [s.source_record for s in changed if s.attributes_changed or s.source_record.golden_record_id is None]
    if hub_ids:
        to_match = _hub_written_attach(stream, to_match, hub_ids, reason)
    if land:
        others = source_records_land(sources=to_match)
        counts.landed += len(to_match) - len(others)
        to_match = others
    if not to_match:
        return
    prepared = source_records_prepare(sources=to_match)
    claimed = match_claims_acquire(keys=prepared.keys)
    placements = source_records_match(sources=to_match, reason=reason, probe=claimed, prepared=prepared)
    for source, placement in zip(to_match, placements, strict=True):
        if placement.error is not None:
            _parked(counts, source, placement.error)


def _hub_written_attach(stream: Stream, sources: Sequence[SourceRecord], hub_ids: Mapping[tuple[str, str], str],
                        reason: str) -> list[SourceRecord]:
    """Attach the records new to the crosswalk that carry the hub's id of a golden record the hub has delivered to
    this platform to that golden record, unmatched; returns the others, to match.

    Such a record is the hub's own write, read before the write was recorded in the crosswalk (a pull reading the
    platform between the write and its commit): it is the golden record's copy by the platform's own key, where
    matching it might find another golden record it resembles more (the hub's record then counted as another's,
    and the golden record it was written for as missing). A hub id the hub never delivered here (one stamped by
    another installation, say) proves nothing: that record is matched."""
    wanted = {s.pk: hub_ids.get((s.object_type, s.external_id)) for s in sources
              if s.golden_record_id is None and s.entity_type != RevenueEvent.ENTITY_TYPE}  # a fact: recorded as such
    wanted = {pk: hub_id for pk, hub_id in wanted.items() if hub_id}
    if not wanted:
        return list(sources)
    by_type: dict[str, list[SourceRecord]] = {}
    for source in sources:
        if source.pk in wanted:
            by_type.setdefault(source.entity_type, []).append(source)
    attached: set[Any] = set()
    for entity_type, group in by_type.items():
        goldens = dict(model_for(entity_type).objects.filter(
            golden_id__in={wanted[s.pk] for s in group}, merged_into__isnull=True).values_list("golden_id", "pk"))
        sent = set(Delivery.objects.filter(subscription__system_id=stream.system_id,
                                           record_id__any=list(goldens.values())).values_list("record_id", flat=True))
        pairs = [(s, goldens[wanted[s.pk]]) for s in group if goldens.get(wanted[s.pk]) in sent]
        if not pairs:
            continue
        result = source_records_attach(pairs=pairs, entity_type=entity_type, reason=f"{reason}: carries the hub's id")
        placed = [s for s, pk in pairs if pk not in result.errors]
        copy_views_write(sources=placed)
        attached.update(s.pk for s in placed)
        if any(result.values()):
            outbound_relay_on_commit()
    return [s for s in sources if s.pk not in attached]


def _apply_one_at_a_time(stream: Stream, page: Page, counts: PageCounts, *, deletions: bool) -> None:
    """Pages that delete: each record in turn, deletions and stagings in the order the platform sent them."""
    for change in page.changes:
        if deletions or change.deleted:
            if source_record_mark_deleted(system=stream.system, object_type=change.object_type,
                                          external_id=change.external_id, deleted_at=change.modified_at):
                counts.deleted += 1
            continue
        staged = source_record_stage(
            system=stream.system, object_type=change.object_type, external_id=change.external_id,
            entity_type=change.entity_type, attributes=change.attributes, payload=change.payload,
            source_modified_at=change.modified_at, reason=f"pulled from {stream.system.key}",
        )
        if not staged.changed:
            counts.unchanged += 1
            continue
        try:
            with transaction.atomic():
                source_record_match(source_record=staged.source_record, reason=f"pulled from {stream.system.key}")
        except ValidationError as exc:
            _parked(counts, staged.source_record, exc)
        counts.created += staged.created
        counts.updated += not staged.created


def _parked(counts: PageCounts, source: SourceRecord, error: ValidationError) -> None:
    """Staged but parked: it refers to a record not here yet; retried at the end of every run."""
    counts.parked += 1
    logger.info("source record parked", extra={"source_record": str(source.pk),
                                                "reason": "; ".join(error.messages)[:300]})


def stream_sync(*, stream: Stream, full: bool = False, max_pages: int | None = None,
                connector: Connector | None = None, budget_s: float | None = None) -> SyncRun:
    """Pull one stream: changes since its cursor (everything with ``full``), then deletions.

    Raises StreamBusy when another worker holds the stream. Connector errors end the run as failed
    (the cursor stays at the last committed page) and are raised for the task to retry.

    With ``budget_s``, the run reads no further page and begins no further chunk of placing once that long has
    passed (it always moves its cursor and places a chunk, if it has any to: each run gets on): it ends
    ``partial`` (what it committed stays, its cursor with it) and the next run goes on from there.
    A first read of a large object takes many runs so; it ends (and its holds are released) with the run that
    has read it through and placed it all.
    """
    if not _try_lock(stream):
        raise StreamBusy(f"stream {stream} is being pulled by another worker")
    try:
        stream.refresh_from_db()
        # Holding the stream's lock, no other run of it is going on: one still running was cut short (its worker
        # killed, say). It ends as failed; what it committed stays, and this run resumes from its cursor.
        SyncRun.objects.filter(stream=stream, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=ABANDONED, errors=F("errors") + 1)
        connector = connector or connector_for(stream.system)
        deadline = None if budget_s is None else time.monotonic() + budget_s
        with correlation.bind(correlation.get()) as cid:
            run = SyncRun.objects.create(stream=stream, full=full, cursor_before=stream.cursor, correlation_id=cid)
            Stream.objects.filter(pk=stream.pk).update(last_run_at=timezone.now())
            try:
                pages, cut = 0, False
                # A first read (or a full one, or one going on from a run that stopped at its budget) lands what is
                # new and places it as it goes, the rest at the end.
                land, landed, bulk = full or not stream.cursor or stream.last_success_at is None, 0, 0
                for page in connector.read_changes(stream.object_type, None if full else (stream.cursor or None)):
                    applied = stream_page_apply(stream=stream, page=page, run=run, land=land).landed
                    landed, bulk = landed + applied, bulk + applied
                    if landed >= PLACE_EVERY and _place_landed(stream, wait=False, deadline=deadline):
                        landed = 0
                    pages += 1
                    if max_pages is not None and pages >= max_pages:
                        break
                    # Past the budget, once the cursor has moved (a run cut before would go on from where it began)
                    if deadline is not None and time.monotonic() >= deadline and page.cursor != (
                            "" if full else stream.cursor):
                        cut = True
                        break
                if not cut:
                    for page in connector.read_deleted(stream.object_type, stream.deleted_cursor or None):
                        stream_page_apply(stream=stream, page=page, run=run, deletions=True)
                # (the runs before it that stopped at their budget asked only of a read that lands: not at every pull)
                bulk_load = bulk >= ANALYZE_AFTER or (land and bulk + _landed_before(stream) >= ANALYZE_AFTER)
                settled = _settle(stream, bulk=bulk_load, deadline=deadline)
            except ConnectorError as exc:
                _finish(run, stream, RunStatus.FAILED, str(exc))
                logger.warning("stream sync failed", extra={"stream": str(stream.pk), "error": str(exc)})
                raise
            _finish(run, stream, RunStatus.SUCCEEDED if settled and not cut else RunStatus.PARTIAL, "")
            run.refresh_from_db()
            return run
    finally:
        _unlock(stream)


def _landed_before(stream: Stream) -> int:
    """What the runs since the stream's last success that stopped at their budget created (a bulk load read over
    several runs is one bulk load)."""
    runs = SyncRun.objects.filter(stream=stream, status=RunStatus.PARTIAL)
    if stream.last_success_at is not None:
        runs = runs.filter(started_at__gt=stream.last_success_at)
    return runs.aggregate(total=Sum("created"))["total"] or 0


def _settle(stream: Stream, *, bulk: bool = False, deadline: float | None = None) -> bool:
    """Place what landed (this run's, or a run's that stopped before placing it; ``bulk``: the run was a bulk
    load); then records that arrived before what they refer to: place the parked ones, resolve the waiting
    links. Returns False when it stopped at the ``deadline`` (see stream_sync) with records still to place."""
    if not _place_landed(stream, wait=True, deadline=deadline):
        return False
    if bulk:
        bulk_load_analyze()
    parked_sources_match(system_id=stream.system_id)
    for entity_type in unresolved_entity_types(("client", "engagement", "milestone", "contract")):
        unresolved_references_recompute(entity_type=entity_type)
    return True


def _place_landed(stream: Stream, *, wait: bool, deadline: float | None = None) -> bool:
    """Place what landed, this stream's and any other's (two platforms' copies of a client landed together make
    one golden record from both, where placing them apart makes it and then updates it). Without ``wait``, only
    if no other transaction is matching records of the type right now (a first read places as it goes, while
    its pages keep landing); returns False when it did not, or stopped at the ``deadline``."""
    for entity_type in landed_entity_types():
        placed = landed_sources_place(entity_type=entity_type, reason=f"pulled from {stream.system.key}", wait=wait,
                                      deadline=deadline)
        if placed is None:
            return False
        logger.info("landed records placed", extra={"stream": str(stream.pk), "entity_type": entity_type,
                                                    **{f"records_{k}": v for k, v in vars(placed).items()}})
        if placed.created or placed.attached:
            outbound_relay_on_commit()
        if placed.unfinished:
            return False
    return True


def _finish(run: SyncRun, stream: Stream, status: str, error: str) -> None:
    now = timezone.now()
    SyncRun.objects.filter(pk=run.pk).update(status=status, finished_at=now, error=error[:4000],
                                             errors=F("errors") + (1 if error else 0))
    updates: Mapping[str, object] = {"last_error": error[:4000]}
    if status == RunStatus.SUCCEEDED:
        if stream.last_success_at is None and first_read_ended(stream=stream, at=now):
            outbound_relay_on_commit()  # what it held is due: the relay sets drains going
        updates = {**updates, "last_success_at": now}
    Stream.objects.filter(pk=stream.pk).update(**updates)
