"""The crosswalk: every platform's copy of a record, and which golden record it belongs to."""

import uuid

from django.db import models

from canonical.choices import EntityType
from hub.models import tracked


class SourceRecord(models.Model):
    """One record as one platform holds it: its id there, its raw payload, and its mapped attributes.

    ``(system, object_type, external_id)`` is unique: staging the same record again updates this row,
    and an unchanged ``payload_hash`` means there is nothing to do. ``source_modified_at`` is the
    platform's own timestamp, so survivorship never lets a late-arriving older copy win. ``attribute_times``
    says when each attribute's value last changed: a platform touching a record (a rollup, or the hub's own
    write read back) bumps its timestamp without making its other, unchanged values any more recent.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed as the leading column of the natural key: an index of its own would be written for nothing.
    system = models.ForeignKey("canonical.ConnectedSystem", on_delete=models.PROTECT, related_name="source_records",
                               db_index=False)
    object_type = models.CharField(max_length=100, help_text="The platform's object, e.g. Account or customer.")
    external_id = models.CharField(max_length=255, help_text="The record's id in that platform.")
    entity_type = models.CharField(max_length=32, choices=EntityType.choices)
    golden_record_id = models.UUIDField(
        null=True, blank=True, db_index=True, help_text="The golden record (of entity_type) this copy belongs to."
    )
    attributes = models.JSONField(default=dict, blank=True, help_text="Canonical attributes mapped from the payload.")
    payload = models.JSONField(default=dict, blank=True, help_text="The platform's record, as received.")
    payload_hash = models.CharField(max_length=64)
    source_modified_at = models.DateTimeField(null=True, blank=True)
    attribute_times = models.JSONField(
        default=dict, blank=True,
        help_text="attribute -> when its value last changed in this copy (the platform's timestamp of that copy).")
    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_changed_at = models.DateTimeField(auto_now=True)
    # Its history is read a record at a time (by id): the live table's other indexes are not kept for it.
    history = tracked(excluded_fields=["payload"], no_db_index=["system", "golden_record_id"])

    class Meta:
        ordering = ["system_id", "object_type", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "object_type", "external_id"], name="source_record_natural_key"),
        ]
        indexes = [
            models.Index(fields=["entity_type", "golden_record_id"]),
            models.Index(fields=["external_id"]),
            # Parked copies (staged, not placed yet), looked for at the end of every pull.
            models.Index(fields=["system", "first_seen_at"], name="source_record_parked",
                         condition=models.Q(golden_record_id__isnull=True, is_deleted=False)),
        ]

    def __str__(self) -> str:
        return f"{self.system_id}:{self.object_type}:{self.external_id}"
