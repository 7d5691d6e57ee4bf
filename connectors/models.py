"""Sync state: streams (one object of one system, one direction) and the runs that pulled them."""

import uuid

from django.db import models


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound (pull from the platform)"
    OUTBOUND = "outbound", "Outbound (push to the platform)"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    PARTIAL = "partial", "Stopped at its time budget (the next run goes on)"


class Stream(models.Model):
    """One object of one connected system in one direction, with the cursor to resume from.

    The cursor advances in the same transaction as the page it covers: a crash resumes at the last
    committed page. ``deleted_cursor`` is the same for the platform's deletion log.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    system = models.ForeignKey("canonical.ConnectedSystem", on_delete=models.CASCADE, related_name="streams")
    object_type = models.CharField(max_length=100)
    direction = models.CharField(max_length=16, choices=Direction.choices, default=Direction.INBOUND)
    enabled = models.BooleanField(default=True)
    cursor = models.CharField(max_length=400, blank=True)
    deleted_cursor = models.CharField(max_length=400, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["system__key", "object_type", "direction"]
        constraints = [
            models.UniqueConstraint(fields=["system", "object_type", "direction"], name="stream_per_object_direction"),
        ]

    def __str__(self) -> str:
        return f"{self.system_id}:{self.object_type} ({self.direction})"


class SyncRun(models.Model):
    """One pull of a stream: what it read and what that did, for operators and for the audit trail."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    full = models.BooleanField(default=False)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    received = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    cursor_before = models.CharField(max_length=400, blank=True)
    cursor_after = models.CharField(max_length=400, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["stream", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.stream} {self.status} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration_s(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


class WebhookStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


class WebhookEvent(models.Model):
    """A platform's push, stored raw (as verified) before anything is done with it.

    ``(system, event_id)`` is unique: the same event delivered twice is stored, and applied, once.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    system = models.ForeignKey("canonical.ConnectedSystem", on_delete=models.CASCADE, related_name="webhook_events")
    event_id = models.CharField(max_length=200)
    object_type = models.CharField(max_length=100)
    body = models.JSONField()
    signature_timestamp = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=WebhookStatus.choices, default=WebhookStatus.RECEIVED)
    error = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["system", "event_id"], name="webhook_event_once")]

    def __str__(self) -> str:
        return f"{self.system_id}:{self.event_id}"


class Subscription(models.Model):
    """A system that receives golden changes of one entity type, when its conditions hold.

    ``conditions``: attribute -> required value, e.g. ``{"status": "active"}``; ``fields``: the canonical
    attributes this system receives (empty: all). Declarative, editable in the admin.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    system = models.ForeignKey("canonical.ConnectedSystem", on_delete=models.CASCADE, related_name="subscriptions")
    entity_type = models.CharField(max_length=32)
    object_type = models.CharField(max_length=100, help_text="The platform's object the records are written to.")
    conditions = models.JSONField(default=dict, blank=True)
    fields = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["system__key", "entity_type"]
        constraints = [models.UniqueConstraint(fields=["system", "entity_type"], name="one_subscription_per_entity")]

    def __str__(self) -> str:
        return f"{self.system_id} <- {self.entity_type}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    HELD = "held", "Held until the platform is first read"
    DELIVERED = "delivered", "Delivered"
    SUPERSEDED = "superseded", "Superseded by a newer version"
    DEAD = "dead", "Dead letter"


class Delivery(models.Model):
    """One golden change to one subscribing system: attempts, the platform's answer, and its fate."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed as the leading column of delivery_once_per_change; next_attempt_at is read with status (below).
    change = models.ForeignKey("canonical.ChangeEvent", on_delete=models.PROTECT, related_name="deliveries",
                               db_index=False)
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    record_id = models.UUIDField(db_index=True)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    response = models.JSONField(default=dict, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True,
                                      help_text="Of the change that caused it; its attempts run under it.")
    replays = models.PositiveIntegerField(default=0, help_text="How often it was replayed as a dead letter.")
    replayed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["change", "subscription"], name="delivery_once_per_change")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            # A drain's next batch: one subscription's pending deliveries, oldest due first.
            models.Index(fields=["subscription", "next_attempt_at"], name="delivery_due",
                         condition=models.Q(status="pending")),
            # Released, per subscription, when its platform's first read ends (most of the time there are none).
            models.Index(fields=["subscription"], name="delivery_held", condition=models.Q(status="held")),
        ]

    def __str__(self) -> str:
        return f"{self.subscription} v{self.version} {self.status}"


class RelayCursor(models.Model):
    """How far the relay has fanned the change feed out into deliveries (one row)."""

    name = models.CharField(max_length=32, primary_key=True, default="outbound")
    position = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"


class BreakerState(models.TextChoices):
    CLOSED = "closed", "Closed (delivering)"
    OPEN = "open", "Open (platform down: nothing is sent until the cool-down ends)"
    HALF_OPEN = "half_open", "Half-open (one probe in flight)"


class CircuitBreaker(models.Model):
    """Whether the hub is talking to a connected system right now, shared by every worker.

    Consecutive outages (5xx, timeouts, connection failures) open it; while open, the system's deliveries
    and pulls wait without spending attempts. When the cool-down ends one probe goes through (half-open):
    an answer closes it, an outage opens it again for twice as long. A 429 is the platform asking for a
    pause, not an outage: ``throttled_until`` holds the system until its Retry-After has passed.
    No row: closed.
    """

    system = models.OneToOneField("canonical.ConnectedSystem", on_delete=models.CASCADE, primary_key=True,
                                  related_name="circuit_breaker")
    state = models.CharField(max_length=16, choices=BreakerState.choices, default=BreakerState.CLOSED)
    consecutive_failures = models.PositiveIntegerField(default=0)
    trips = models.PositiveIntegerField(default=0, help_text="Openings since it last closed (the cool-down doubles).")
    opened_at = models.DateTimeField(null=True, blank=True)
    next_probe_at = models.DateTimeField(
        null=True, blank=True, help_text="Open: when the cool-down ends. Half-open: when the probe's lease ends.")
    throttled_until = models.DateTimeField(null=True, blank=True, help_text="The platform's Retry-After.")
    last_error = models.TextField(blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["system__key"]

    def __str__(self) -> str:
        return f"{self.system_id}: {self.state}"
