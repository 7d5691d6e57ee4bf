"""Revenue events: immutable business facts along the quote-to-cash chain."""

from django.db import models

from canonical.choices import EntityType, RevenueEventKind
from canonical.models.base import MONEY, GoldenRecord, currency_field, golden_id_field
from hub.models import tracked

# Columns a database trigger refuses to change after insert (see migration 0002).
IMMUTABLE_COLUMNS = ("idempotency_key", "kind", "amount", "currency", "occurred_on", "period")


class RevenueEvent(GoldenRecord):
    """A fact such as a booking, an invoice or recognised revenue. Written once, never changed.

    ``idempotency_key`` makes a fact reported twice (a re-read page, a retried webhook) land once.
    Corrections are new events (a negative amount, a revised forecast), never edits.
    """

    ENTITY_TYPE = EntityType.REVENUE_EVENT
    GOLDEN_PREFIX = "RV"
    SURVIVED_ATTRIBUTES = ()

    golden_id = golden_id_field("RV", "canonical_revenue_event_golden_seq")
    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=RevenueEventKind.choices)
    amount = models.DecimalField(**MONEY)
    currency = currency_field()
    occurred_on = models.DateField()
    period = models.CharField(max_length=7, help_text="Accounting period, YYYY-MM.")
    client = models.ForeignKey("canonical.Client", on_delete=models.PROTECT, related_name="revenue_events")
    engagement = models.ForeignKey(
        "canonical.Engagement", null=True, blank=True, on_delete=models.PROTECT, related_name="revenue_events"
    )
    contract = models.ForeignKey(
        "canonical.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="revenue_events"
    )
    milestone = models.ForeignKey(
        "canonical.Milestone", null=True, blank=True, on_delete=models.PROTECT, related_name="revenue_events"
    )
    source_system = models.ForeignKey(
        "canonical.ConnectedSystem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_reference = models.CharField(max_length=120, blank=True, help_text="The platform's document number.")
    description = models.CharField(max_length=255, blank=True)
    history = tracked()

    class Meta:
        ordering = ["occurred_on", "golden_id"]
        indexes = [
            models.Index(fields=["kind", "period"]),
            models.Index(fields=["occurred_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period__regex=r"^\d{4}-(0[1-9]|1[0-2])$"), name="period_is_yyyy_mm"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.golden_id} {self.kind} {self.amount} {self.currency}"
