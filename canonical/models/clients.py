"""Client: the organisation the firm works for."""

from django.db import models

from canonical.choices import ClientStatus, EntityType
from canonical.models.base import GoldenRecord, currency_field, golden_id_field
from hub.models import tracked


class Client(GoldenRecord):
    """Golden record of a client organisation, with its place in a corporate hierarchy."""

    ENTITY_TYPE = EntityType.CLIENT
    GOLDEN_PREFIX = "CL"
    SURVIVED_ATTRIBUTES = (
        "legal_name", "display_name", "parent", "website_domain", "tax_id", "country",
        "billing_street", "billing_city", "billing_region", "billing_postcode", "billing_country",
        "industry", "currency", "status",
    )

    golden_id = golden_id_field("CL", "canonical_client_golden_seq")
    legal_name = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="subsidiaries",
        help_text="The parent company in the client hierarchy.",
    )
    website_domain = models.CharField(max_length=253, blank=True)
    tax_id = models.CharField(max_length=64, blank=True, help_text="VAT / EIN / company tax number.")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2.")
    billing_street = models.CharField(max_length=255, blank=True)
    billing_city = models.CharField(max_length=120, blank=True)
    billing_region = models.CharField(max_length=120, blank=True)
    billing_postcode = models.CharField(max_length=32, blank=True)
    billing_country = models.CharField(max_length=2, blank=True)
    industry = models.CharField(max_length=120, blank=True)
    currency = currency_field(blank=True)
    status = models.CharField(max_length=16, choices=ClientStatus.choices, default=ClientStatus.ACTIVE)
    history = tracked()

    class Meta:
        ordering = ["golden_id"]
        indexes = [
            models.Index(fields=["legal_name"]),
            models.Index(fields=["website_domain"]),
            models.Index(fields=["tax_id"]),
            models.Index(fields=["country", "status"]),
        ]

    @property
    def name(self) -> str:
        return self.display_name or self.legal_name
