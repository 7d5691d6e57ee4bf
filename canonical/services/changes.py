"""The change feed: write a change event with each golden change; give events positions after commit."""

from collections.abc import Sequence

from django.db import connection, models, transaction

from canonical.choices import ChangeOperation
from canonical.models import ChangeEvent
from hub import correlation
from hub.db import json_safe

# pg_advisory_xact_lock key for the sequencer: "CONCORD1" in ASCII, any constant would do.
SEQUENCER_LOCK = 0x434F4E434F524431
SEQUENCE_BATCH = 5000


def golden_record_snapshot(record: models.Model) -> dict:
    """The record's attributes as JSON-safe values; foreign keys as the related record's UUID."""
    data: dict = {"id": str(record.pk), "golden_id": record.golden_id, "version": record.version}
    for field in record._meta.concrete_fields:
        if field.name in {"id", "golden_id", "version", "lineage", "created_at", "updated_at"}:
            continue
        data[field.name] = getattr(record, field.attname)
    return json_safe(data)


def change_event_build(
    *, record: models.Model, operation: str, changed_fields: Sequence[str], reason: str = ""
) -> ChangeEvent:
    """The change event of a golden change, not saved yet (for writing many at once)."""
    return ChangeEvent(
        entity_type=record.ENTITY_TYPE,
        record_id=record.pk,
        golden_id=record.golden_id,
        version=record.version,
        operation=operation or ChangeOperation.UPDATED,
        changed_fields=sorted(changed_fields),
        data=golden_record_snapshot(record),
        reason=reason[:200],
        correlation_id=correlation.get() or "",
    )


def change_event_record(
    *, record: models.Model, operation: str, changed_fields: Sequence[str], reason: str = ""
) -> ChangeEvent:
    """Write the change event of a golden change. Call inside the transaction that made the change."""
    event = change_event_build(record=record, operation=operation, changed_fields=changed_fields, reason=reason)
    event.save(force_insert=True)
    return event


def change_events_sequence(*, limit: int = SEQUENCE_BATCH) -> int:
    """Give committed, unsequenced change events their feed positions, in id order. Returns how many.

    One sequencer at a time (a transaction-scoped advisory lock; a second caller simply returns 0), so
    positions only ever grow, and they are assigned only to rows this transaction can see, that is,
    rows whose transactions have committed. See ChangeEvent for why this makes the feed gap-free.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEQUENCER_LOCK])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(
            """
            UPDATE canonical_changeevent AS c SET position = s.pos
            FROM (
                SELECT id,
                       (SELECT coalesce(max(position), 0) FROM canonical_changeevent)
                       + row_number() OVER (ORDER BY id) AS pos
                FROM canonical_changeevent
                WHERE position IS NULL
                ORDER BY id
                LIMIT %s
            ) AS s
            WHERE c.id = s.id
            """,
            [limit],
        )
        return cursor.rowcount
