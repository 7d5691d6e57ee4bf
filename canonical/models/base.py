"""What every golden record shares: UUID key, readable golden id, version, lineage, history."""

import uuid
from typing import ClassVar

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Func, Value

CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "Currency must be an ISO 4217 code such as USD, EUR or GBP.")
MONEY = {"max_digits": 18, "decimal_places": 2}


class NextGoldenId(Func):
    """``concord_golden_id('CL', 'canonical_client_golden_seq')`` -> ``CL-000123``: assigned by the database
    on insert, so every path that creates a golden record (ORM, bulk, SQL) gets one, gap-tolerant and unique."""

    function = "concord_golden_id"
    output_field = models.CharField()

    def __init__(self, prefix: str, sequence: str) -> None:
        super().__init__(Value(prefix), Value(sequence))


def golden_id_field(prefix: str, sequence: str) -> models.CharField:
    return models.CharField(
        max_length=24, unique=True, editable=False, db_default=NextGoldenId(prefix, sequence),
        help_text="Human-readable golden id, stable for the life of the record.",
    )


def currency_field(**kwargs) -> models.CharField:
    return models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR], help_text="ISO 4217 code.", **kwargs)


class GoldenRecord(models.Model):
    """A mastered record, computed from its platforms' source records by survivorship.

    ``lineage`` maps each attribute to where its value came from:
    ``{"legal_name": {"source_record": "<uuid>", "system": "netsuite", "rule": "source_priority", "at": "..."}}``.
    ``version`` increases by one on every change, so consumers can order and deduplicate.
    """

    ENTITY_TYPE: ClassVar[str]
    GOLDEN_PREFIX: ClassVar[str]
    # Attributes computed by survivorship from source records (in canonical attribute names).
    SURVIVED_ATTRIBUTES: ClassVar[tuple[str, ...]]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A merged-away record stays, pointing at its survivor: its golden id keeps resolving, and the merge
    # can be undone. Reads of live records leave merged ones out.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    lineage = models.JSONField(default=dict, blank=True, editable=False)
    # Values a steward pinned: {"legal_name": {"value": ..., "by": ..., "reason": ..., "at": ...}}. They win
    # over every source until cleared.
    overrides = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.golden_id} {getattr(self, 'name', '') or getattr(self, 'display_name', '')}".strip()
