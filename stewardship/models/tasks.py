"""Steward tasks: one row per cause (a grey-zone pair, a rule violation, a dead letter), never two."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone

from hub.models import tracked


class TaskKind(models.TextChoices):
    POTENTIAL_MATCH = "potential_match", "Potential match"
    DATA_QUALITY = "data_quality", "Data quality"
    BUSINESS_EXCEPTION = "business_exception", "Business exception"
    SYNC_FAILURE = "sync_failure", "Sync failure"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


ACTIVE_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


class Priority(models.IntegerChoices):
    CRITICAL = 1, "Critical"
    HIGH = 2, "High"
    NORMAL = 3, "Normal"
    LOW = 4, "Low"


class Resolution(models.TextChoices):
    MERGED = "merged", "Merged"
    NOT_A_MATCH = "not_a_match", "Not a match"
    FIXED = "fixed", "Fixed"
    REPLAYED = "replayed", "Replayed and delivered"
    CAUSE_GONE = "cause_gone", "Cause disappeared"
    DISMISSED = "dismissed", "Dismissed"


class TaskSLA(models.Model):
    """How long a task of each kind may stay open, and its default priority (steward leads edit these)."""

    kind = models.CharField(max_length=32, choices=TaskKind.choices, primary_key=True)
    hours = models.PositiveIntegerField(help_text="A new task is due this many hours after it opens.")
    default_priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    history = tracked()

    class Meta:
        verbose_name = "task SLA"
        verbose_name_plural = "task SLAs"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.hours} h"


class StewardTask(models.Model):
    """Work for a steward. ``(kind, cause_key)`` is unique: the same cause never opens two tasks; when the
    cause disappears the task resolves itself, and if the cause comes back the same task reopens."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=TaskKind.choices)
    cause_key = models.CharField(max_length=300, help_text="What raised the task, e.g. dq:client_country:<id>.")
    title = models.CharField(max_length=300)
    domain = models.CharField(max_length=32, blank=True, help_text="The entity type concerned, if any.")
    record_ids = ArrayField(models.UUIDField(), default=list, blank=True)
    golden_ids = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="steward_tasks")
    due_at = models.DateTimeField()
    deferred_until = models.DateTimeField(null=True, blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True,
                                 help_text="The money at stake, in ``currency``.")
    currency = models.CharField(max_length=3, blank=True)
    details = models.JSONField(default=dict, blank=True)
    potential_match = models.ForeignKey("canonical.PotentialMatch", null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="steward_tasks")
    delivery = models.ForeignKey("connectors.Delivery", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="steward_tasks")
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolved_by_name = models.CharField(max_length=150, blank=True, help_text="Who resolved it ('hub' if the "
                                        "cause disappeared, 'api:<client>' for an API client).")
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = tracked()

    class Meta:
        ordering = ["priority", "due_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "cause_key"], name="steward_task_once_per_cause")]
        indexes = [
            models.Index(fields=["kind", "status", "priority", "due_at"]),
            models.Index(fields=["assignee", "status"]),
            GinIndex(fields=["record_ids"], name="steward_task_records"),
        ]
        permissions = [
            ("work_task", "Can work steward tasks (claim, resolve, dismiss, merge, override)"),
            ("assign_task", "Can assign steward tasks to others"),
            ("approve_proposal", "Can approve a second steward's sensitive edit"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_active and self.due_at < timezone.now()


class TaskComment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.ForeignKey(StewardTask, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    author_name = models.CharField(max_length=150)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:60]}"


class BulkAction(models.Model):
    """A bulk action recorded as one unit, with what each item was before, so it can be undone as one."""

    class Action(models.TextChoices):
        ASSIGN = "assign", "Bulk assign"
        DISMISS = "dismiss", "Bulk dismiss"
        MERGE = "merge", "Bulk merge"
        OVERRIDE = "override", "Bulk override"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    action = models.CharField(max_length=16, choices=Action.choices)
    # Not "actor": every history row has an actor (a name) of its own (hub.models.CorrelatedHistory).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    actor_name = models.CharField(max_length=150)
    reason = models.CharField(max_length=300, blank=True)
    items = models.JSONField(default=list, help_text="Per item: what it was before, to undo it.")
    item_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by_name = models.CharField(max_length=150, blank=True)
    history = tracked()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} of {self.item_count} by {self.actor_name}"
