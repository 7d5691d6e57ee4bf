"""Connected systems: the platform instances the hub exchanges records with."""

import uuid

from django.core.validators import RegexValidator
from django.db import models

from canonical.choices import SystemKind
from hub.models import tracked


class ConnectedSystem(models.Model):
    """One platform instance (a Salesforce org, a NetSuite account...). ``key`` is how the API names it.

    It lives in canonical rather than connectors because the crosswalk is keyed by it; connectors add
    streams, runs and deliveries on top. Credentials are never stored here: ``config`` holds only
    non-secret settings and the names of the environment variables that carry the secrets.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.SlugField(
        max_length=50, unique=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9_-]*$")],
        help_text="Stable short name used in the API, e.g. 'salesforce' or 'netsuite-emea'.",
    )
    kind = models.CharField(max_length=32, choices=SystemKind.choices)
    name = models.CharField(max_length=100)
    base_url = models.URLField(max_length=300, blank=True)
    enabled = models.BooleanField(default=True)
    config = models.JSONField(default=dict, blank=True, help_text="Non-secret settings; secrets by env var name only.")
    created_at = models.DateTimeField(auto_now_add=True)
    history = tracked()

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name
