"""A steward's edit of a golden record, proposed before it takes effect (sensitive ones need a second steward)."""

import uuid

from django.conf import settings
from django.db import models

from hub.models import tracked


class ProposalStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    APPLIED = "applied", "Applied"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class EditProposal(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entity_type = models.CharField(max_length=32)
    record_id = models.UUIDField(db_index=True)
    golden_id = models.CharField(max_length=32, blank=True)
    changes = models.JSONField(help_text="attribute -> proposed value")
    before = models.JSONField(default=dict, help_text="attribute -> value when proposed")
    sensitive_attributes = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PENDING)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    proposed_by_name = models.CharField(max_length=150)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_by_name = models.CharField(max_length=150, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    bulk_action = models.ForeignKey("stewardship.BulkAction", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="proposals")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    history = tracked()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.golden_id or self.record_id}: {', '.join(self.changes)} ({self.status})"

    @property
    def needs_second_approval(self) -> bool:
        return bool(self.sensitive_attributes)
