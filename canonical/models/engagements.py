"""Engagement (a project) and its milestones."""

from django.db import models

from canonical.choices import EngagementStatus, EngagementType, EntityType, MilestoneStatus
from canonical.models.base import MONEY, GoldenRecord, currency_field, golden_id_field
from hub.models import tracked


class Engagement(GoldenRecord):
    """Golden record of a piece of client work: sold in the CRM, delivered in the PSA, billed in the ERP."""

    ENTITY_TYPE = EntityType.ENGAGEMENT
    GOLDEN_PREFIX = "EN"
    SURVIVED_ATTRIBUTES = (
        "client", "code", "name", "engagement_type", "status", "start_date", "end_date",
        "budget_amount", "currency", "practice", "delivery_owner",
    )

    golden_id = golden_id_field("EN", "canonical_engagement_golden_seq")
    client = models.ForeignKey("canonical.Client", on_delete=models.PROTECT, related_name="engagements")
    code = models.CharField(max_length=64, blank=True, help_text="The firm's project code.")
    name = models.CharField(max_length=255)
    engagement_type = models.CharField(
        max_length=32, choices=EngagementType.choices, default=EngagementType.TIME_AND_MATERIALS
    )
    status = models.CharField(max_length=16, choices=EngagementStatus.choices, default=EngagementStatus.PIPELINE)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    budget_amount = models.DecimalField(null=True, blank=True, **MONEY)
    currency = currency_field(blank=True)
    practice = models.CharField(max_length=120, blank=True)
    delivery_owner = models.CharField(max_length=120, blank=True)
    history = tracked()

    class Meta:
        ordering = ["golden_id"]
        indexes = [models.Index(fields=["code"]), models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="engagement_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(budget_amount__isnull=True) | ~models.Q(currency=""),
                name="engagement_budget_has_currency",
            ),
        ]


class Milestone(GoldenRecord):
    """A billable or contractual step of an engagement (fixed-fee billing points, acceptance gates)."""

    ENTITY_TYPE = EntityType.MILESTONE
    GOLDEN_PREFIX = "MS"
    SURVIVED_ATTRIBUTES = (
        "engagement", "name", "sequence", "due_date", "completed_date", "amount", "currency", "status",
    )

    golden_id = golden_id_field("MS", "canonical_milestone_golden_seq")
    engagement = models.ForeignKey("canonical.Engagement", on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(max_length=255)
    sequence = models.PositiveIntegerField(default=1)
    due_date = models.DateField(null=True, blank=True)
    completed_date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(null=True, blank=True, **MONEY)
    currency = currency_field(blank=True)
    status = models.CharField(max_length=16, choices=MilestoneStatus.choices, default=MilestoneStatus.PLANNED)
    history = tracked()

    class Meta:
        ordering = ["engagement_id", "sequence"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | ~models.Q(currency=""),
                name="milestone_amount_has_currency",
            ),
        ]
