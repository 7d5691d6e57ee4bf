"""Matching state: rules per entity type, the indexed match view of each source record, decisions,
potential matches for stewards, and "not a match" memory."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models

from canonical.choices import EntityType, MatchOutcome, PotentialMatchStatus
from hub.models import tracked


class MatchConfiguration(models.Model):
    """The match rules of one entity type (same shape as a dedupe_csv configuration, over canonical
    attributes) and the weights learnt for them. Seeded from canonical/seeds/match_rules/; every change
    is versioned with history, and is applied only after a dry run has shown its impact."""

    entity_type = models.CharField(max_length=32, choices=EntityType.choices, unique=True)
    spec = models.JSONField(help_text="fields, blocking, deterministic rules and thresholds")
    parameters = models.JSONField(default=dict, blank=True, help_text="m/u probabilities and prior, learnt by EM")
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    history = tracked()

    def __str__(self) -> str:
        return f"{self.entity_type} rules v{self.version}"


class MatchRecord(models.Model):
    """One source record as matching sees it: normalised values, and the keys the blocking indexes serve.

    Normalised once when the source record is staged, never per comparison. ``block_keys`` holds one
    ``field=value`` string per blocking rule, ``name_keys`` the keys that find records named alike (words and
    word prefixes of ``name_key``, the normalised name). A database trigger keeps both in MatchKey, where a
    b-tree serves every candidate lookup.
    """

    source_record = models.OneToOneField(
        "canonical.SourceRecord", primary_key=True, on_delete=models.CASCADE, related_name="match_record"
    )
    entity_type = models.CharField(max_length=32, choices=EntityType.choices)
    golden_record_id = models.UUIDField(null=True, blank=True)
    values = models.JSONField(default=dict)
    block_keys = ArrayField(models.CharField(max_length=300), default=list)
    name_key = models.CharField(max_length=300, blank=True)
    name_keys = ArrayField(models.CharField(max_length=300), default=list)
    is_active = models.BooleanField(default=True)

    class Meta:
        indexes = [
            models.Index(fields=["entity_type", "golden_record_id"], name="match_entity_golden"),
            # Landed views, not placed yet (canonical.services.landing): a bulk load's, for as long as it is
            # placed; asked at the end of every pull whether there are any.
            models.Index(fields=["entity_type"], name="match_landed",
                         condition=models.Q(golden_record_id__isnull=True, is_active=False)),
        ]

    def __str__(self) -> str:
        return f"match view of {self.source_record_id}"


class MatchKey(models.Model):
    """One key of an active match view (a blocking key, or a name key starting with ``~``), with the view's
    golden record: what candidate lookups and term-frequency counts read, through one b-tree.

    Written only by the database trigger on MatchRecord (migration 0012), so every way a view is written (one
    at a time, in bulk, by a plain UPDATE of its golden record, by COPY) keeps its keys. An equality probe of
    a b-tree costs microseconds at any size, where a GIN array or trigram probe grows with the posting lists
    of common values.
    """

    id = models.BigAutoField(primary_key=True)
    entity_type = models.CharField(max_length=32)
    key = models.CharField(max_length=300)
    record_id = models.UUIDField(help_text="the match view (its source record)")
    golden_record_id = models.UUIDField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["entity_type", "key"], include=["record_id", "golden_record_id"],
                         name="matchkey_lookup"),
            models.Index(fields=["record_id"], name="matchkey_record"),
        ]

    def __str__(self) -> str:
        return f"{self.key} -> {self.record_id}"


class MatchCommonName(models.Model):
    """A name key found held by more than TOKEN_BLOCK_CAP live match views: too common to identify a name (``~and``,
    ``~group``), so it is never looked up, and the match views written from then on leave it out of their name keys,
    which spares its MatchKey rows (in a 100k load, half of the name keys' rows were the holders of a few hundred
    such words). Found by the bulk placing of a load (canonical.services.landing) and by the name probes; written
    once, never removed: a name key common once stays common, whatever views come and go."""

    entity_type = models.CharField(max_length=32)
    key = models.CharField(max_length=300)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity_type", "key"], name="matchcommonname_unique")]

    def __str__(self) -> str:
        return self.key


class MatchClaim(models.Model):
    """A match key claimed by a transaction deciding arrivals: the row of the key (a 64-bit hash of entity type and
    key) is locked until the transaction ends (see ``match_claims_acquire``). Pages whose records share no key
    are decided side by side; two that share one are decided one after the other, the second seeing the first.
    One row per key ever claimed, written once and never changed: the claim is the row lock, not the row."""

    id = models.BigIntegerField(primary_key=True)

    def __str__(self) -> str:
        return str(self.id)


class MatchDecision(models.Model):
    """Why a source record is where it is: the best candidate, its score, each comparison's weight."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source_record = models.ForeignKey("canonical.SourceRecord", on_delete=models.CASCADE, related_name="decisions")
    entity_type = models.CharField(max_length=32, choices=EntityType.choices)
    outcome = models.CharField(max_length=32, choices=MatchOutcome.choices)
    golden_record_id = models.UUIDField(null=True, blank=True, help_text="Where the source record went.")
    candidate_golden_id = models.UUIDField(null=True, blank=True, help_text="The best-scoring other golden record.")
    score = models.FloatField(null=True, blank=True, help_text="Match probability against the candidate.")
    contributions = models.JSONField(default=dict, blank=True, help_text="field -> {level, weight}")
    config_version = models.PositiveIntegerField(default=0)
    actor = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["source_record", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.outcome} {self.score}"


class PotentialMatch(models.Model):
    """Two golden records that may be one: a grey-zone score, waiting for a steward's decision."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entity_type = models.CharField(max_length=32, choices=EntityType.choices)
    record_a = models.UUIDField(help_text="The lower UUID of the pair (pairs are stored in one order).")
    record_b = models.UUIDField()
    score = models.FloatField()
    contributions = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=PotentialMatchStatus.choices, default=PotentialMatchStatus.OPEN)
    decided_by = models.CharField(max_length=150, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    history = tracked()

    class Meta:
        ordering = ["-score", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["entity_type", "record_a", "record_b"], name="potential_match_pair"),
            models.CheckConstraint(condition=models.Q(record_a__lt=models.F("record_b")), name="potential_match_order"),
        ]
        indexes = [models.Index(fields=["status", "entity_type", "-score"])]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.record_a} ~ {self.record_b} ({self.score:.2f})"


class NotAMatch(models.Model):
    """A steward's word that two golden records are different: never suggested or auto-merged again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entity_type = models.CharField(max_length=32, choices=EntityType.choices)
    record_a = models.UUIDField()
    record_b = models.UUIDField()
    actor = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = tracked()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity_type", "record_a", "record_b"], name="not_a_match_pair"),
            models.CheckConstraint(condition=models.Q(record_a__lt=models.F("record_b")), name="not_a_match_order"),
        ]

    def __str__(self) -> str:
        return f"{self.record_a} != {self.record_b}"
