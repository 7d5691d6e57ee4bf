"""Contract: master services agreements, statements of work and their change orders."""

from django.db import models

from canonical.choices import ContractKind, ContractStatus, EntityType
from canonical.models.base import MONEY, GoldenRecord, currency_field, golden_id_field
from hub.models import tracked


class Contract(GoldenRecord):
    """Golden record of a contract. An SOW sits under an MSA; a change order amends its parent SOW."""

    ENTITY_TYPE = EntityType.CONTRACT
    GOLDEN_PREFIX = "CT"
    SURVIVED_ATTRIBUTES = (
        "client", "engagement", "kind", "parent", "number", "title", "value_amount", "currency",
        "start_date", "end_date", "billing_terms", "signed_date", "status",
    )

    golden_id = golden_id_field("CT", "canonical_contract_golden_seq")
    client = models.ForeignKey("canonical.Client", on_delete=models.PROTECT, related_name="contracts")
    engagement = models.ForeignKey(
        "canonical.Engagement", null=True, blank=True, on_delete=models.PROTECT, related_name="contracts",
        help_text="The engagement an SOW or change order covers; empty for an MSA.",
    )
    kind = models.CharField(max_length=16, choices=ContractKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        help_text="The MSA of an SOW; the SOW of a change order.",
    )
    number = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=255, blank=True)
    value_amount = models.DecimalField(null=True, blank=True, **MONEY)
    currency = currency_field(blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    billing_terms = models.CharField(max_length=64, blank=True, help_text="e.g. Net 30, milestone, monthly in arrears")
    signed_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ContractStatus.choices, default=ContractStatus.DRAFT)
    history = tracked()

    class Meta:
        ordering = ["golden_id"]
        indexes = [models.Index(fields=["number"]), models.Index(fields=["kind", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind=ContractKind.CHANGE_ORDER) | models.Q(parent__isnull=False),
                name="change_order_has_parent",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=ContractKind.MSA) | models.Q(parent__isnull=True),
                name="msa_has_no_parent",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="contract_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(value_amount__isnull=True) | ~models.Q(currency=""),
                name="contract_value_has_currency",
            ),
        ]
