"""The change feed: one row per golden-record change, written in the same transaction as the change."""

from django.db import models

from canonical.choices import ChangeOperation, EntityType


class ChangeEvent(models.Model):
    """A golden record changed. Consumers poll these in ``position`` order.

    ``id`` comes from a sequence at insert time, so two transactions can commit in the opposite order
    of their ids, and a reader that trusted ``id`` would skip the late one. ``position`` is therefore
    assigned *after* commit by a single sequencer (canonical.services.changes.change_events_sequence)
    in id order: a row only gets a position once it is visible, positions only grow, and a poller
    that remembers the last position it saw can never miss a change. Changes to one record are
    serialised by the record's row lock, so their ids, and then their positions, follow their order.
    """

    id = models.BigAutoField(primary_key=True)
    position = models.BigIntegerField(null=True, blank=True, unique=True)
    entity_type = models.CharField(max_length=32, choices=EntityType.choices)
    record_id = models.UUIDField()
    golden_id = models.CharField(max_length=24)
    version = models.PositiveIntegerField()
    operation = models.CharField(max_length=16, choices=ChangeOperation.choices)
    changed_fields = models.JSONField(default=list)
    data = models.JSONField(default=dict, help_text="The record's attributes after the change.")
    reason = models.CharField(max_length=200, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(position__isnull=True), name="change_unsequenced"),
            models.Index(fields=["entity_type", "position"]),
            models.Index(fields=["record_id", "version"]),
        ]

    def __str__(self) -> str:
        return f"{self.golden_id} v{self.version} {self.operation}"
