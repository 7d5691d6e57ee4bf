"""The shared glossary: what each business word means and what each platform calls it."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models

from canonical.choices import GlossaryDomain, GlossaryStatus
from hub.models import tracked


class GlossaryTerm(models.Model):
    """A business term with one agreed definition, an owner, and its name in every platform."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    definition = models.TextField()
    domain = models.CharField(max_length=16, choices=GlossaryDomain.choices)
    owner = models.CharField(max_length=120, help_text="The function accountable for the definition.")
    status = models.CharField(max_length=16, choices=GlossaryStatus.choices, default=GlossaryStatus.DRAFT)
    synonyms = ArrayField(models.CharField(max_length=120), default=list, blank=True)
    related = models.ManyToManyField("self", blank=True, symmetrical=True)
    canonical_attribute = models.CharField(
        max_length=120, blank=True, help_text="The canonical attribute it defines, e.g. Engagement.budget_amount."
    )
    platform_names = models.JSONField(
        default=dict, blank=True, help_text='What each platform calls it: {"salesforce": "Opportunity.Amount"}.'
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = tracked(m2m_fields=[related])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
