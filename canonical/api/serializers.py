"""API shapes of golden records, their sources, history, the change feed and the glossary.

Serializers only shape data: golden records are never written through them (they are computed).
They serialise live rows and historical rows (``?as_of``) alike: both carry the same attributes.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from canonical.models import (
    ChangeEvent,
    Client,
    ConnectedSystem,
    Contract,
    Engagement,
    GlossaryTerm,
    Milestone,
    RevenueEvent,
    SourceRecord,
)

GOLDEN_META = ("id", "golden_id", "version", "lineage", "overrides", "created_at", "updated_at")


class RefSerializer(serializers.Serializer):
    """A compact reference to another golden record."""

    id = serializers.UUIDField(read_only=True)
    golden_id = serializers.CharField(read_only=True)


class LineageEntrySerializer(serializers.Serializer):
    source_record = serializers.UUIDField(allow_null=True)
    system = serializers.CharField(allow_null=True)
    rule = serializers.CharField()
    at = serializers.DateTimeField()


@extend_schema_field({"type": "object", "additionalProperties": {"$ref": "#/components/schemas/LineageEntry"}})
class LineageField(serializers.JSONField):
    """attribute -> where its value came from (source record, system, survivorship rule)."""


class GoldenRecordSerializer(serializers.ModelSerializer):
    lineage = LineageField(read_only=True, help_text="Per attribute: the source record and rule that gave its value.")
    overrides = serializers.JSONField(read_only=True, help_text="Values a steward pinned: attribute -> {value, by, "
                                                                "reason, at}.")


class BillingAddressSerializer(serializers.Serializer):
    street = serializers.CharField(source="billing_street")
    city = serializers.CharField(source="billing_city")
    region = serializers.CharField(source="billing_region")
    postcode = serializers.CharField(source="billing_postcode")
    country = serializers.CharField(source="billing_country")


class ClientSerializer(GoldenRecordSerializer):
    parent = RefSerializer(read_only=True, allow_null=True)
    billing_address = BillingAddressSerializer(source="*", read_only=True)

    class Meta:
        model = Client
        fields = (
            *GOLDEN_META[:2], "legal_name", "display_name", "parent", "website_domain", "tax_id", "country",
            "billing_address", "industry", "currency", "status", *GOLDEN_META[2:],
        )


class MilestoneSerializer(GoldenRecordSerializer):
    engagement = RefSerializer(read_only=True)

    class Meta:
        model = Milestone
        fields = (
            *GOLDEN_META[:2], "engagement", "name", "sequence", "due_date", "completed_date", "amount", "currency",
            "status", *GOLDEN_META[2:],
        )


class NestedMilestoneSerializer(MilestoneSerializer):
    class Meta(MilestoneSerializer.Meta):
        fields = tuple(f for f in MilestoneSerializer.Meta.fields if f not in {"engagement", "lineage", "overrides"})


class EngagementSerializer(GoldenRecordSerializer):
    client = RefSerializer(read_only=True)
    milestones = serializers.SerializerMethodField()

    class Meta:
        model = Engagement
        fields = (
            *GOLDEN_META[:2], "client", "code", "name", "engagement_type", "status", "start_date", "end_date",
            "budget_amount", "currency", "practice", "delivery_owner", "milestones", *GOLDEN_META[2:],
        )

    @extend_schema_field(NestedMilestoneSerializer(many=True))
    def get_milestones(self, engagement) -> list[dict]:
        # Live rows are prefetched by the view; as-of reads pass the milestones of that instant.
        by_engagement = self.context.get("milestones_by_engagement")
        if by_engagement is not None:
            milestones = by_engagement.get(engagement.id, [])
        else:
            milestones = engagement.milestones.all()
        return NestedMilestoneSerializer(milestones, many=True, context=self.context).data


class ContractSerializer(GoldenRecordSerializer):
    client = RefSerializer(read_only=True)
    engagement = RefSerializer(read_only=True, allow_null=True)
    parent = RefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Contract
        fields = (
            *GOLDEN_META[:2], "client", "engagement", "kind", "parent", "number", "title", "value_amount", "currency",
            "start_date", "end_date", "billing_terms", "signed_date", "status", *GOLDEN_META[2:],
        )


class RevenueEventSerializer(GoldenRecordSerializer):
    client = RefSerializer(read_only=True)
    engagement = RefSerializer(read_only=True, allow_null=True)
    contract = RefSerializer(read_only=True, allow_null=True)
    milestone = RefSerializer(read_only=True, allow_null=True)
    source_system = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)

    class Meta:
        model = RevenueEvent
        fields = (
            *GOLDEN_META[:2], "idempotency_key", "kind", "amount", "currency", "occurred_on", "period", "client",
            "engagement", "contract", "milestone", "source_system", "source_reference", "description",
            "created_at",
        )
        read_only_fields = fields


class ConnectedSystemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConnectedSystem
        fields = ("id", "key", "kind", "name", "base_url", "enabled", "created_at")


class SourceRecordSerializer(serializers.ModelSerializer):
    system = serializers.SlugRelatedField(slug_field="key", read_only=True)
    supplies = serializers.SerializerMethodField(help_text="Golden attributes whose surviving value came from here.")

    class Meta:
        model = SourceRecord
        fields = (
            "id", "system", "object_type", "external_id", "entity_type", "golden_record_id", "attributes", "payload",
            "payload_hash", "source_modified_at", "is_deleted", "deleted_at", "first_seen_at", "last_changed_at",
            "supplies",
        )

    def get_supplies(self, source: SourceRecord) -> list[str]:
        lineage = self.context.get("lineage") or {}
        return sorted(attr for attr, entry in lineage.items() if entry.get("source_record") == str(source.pk))


class HistoryEntrySerializer(serializers.Serializer):
    history_id = serializers.IntegerField(source="record.history_id")
    history_date = serializers.DateTimeField(source="record.history_date")
    history_type = serializers.SerializerMethodField()
    change_reason = serializers.CharField(source="record.history_change_reason", allow_null=True)
    user = serializers.SerializerMethodField()
    correlation_id = serializers.CharField(source="record.correlation_id")
    version = serializers.SerializerMethodField()
    changes = serializers.DictField(child=serializers.DictField(), help_text="attribute -> {old, new}")

    def get_history_type(self, entry) -> str:
        return {"+": "created", "~": "changed", "-": "deleted"}[entry.record.history_type]

    def get_user(self, entry) -> str | None:
        user = entry.record.history_user
        return user.get_username() if user is not None else None

    def get_version(self, entry) -> int | None:
        return getattr(entry.record, "version", None)


class CrosswalkHitSerializer(serializers.Serializer):
    entity_type = serializers.CharField()
    golden_id = serializers.CharField(source="record.golden_id")
    id = serializers.UUIDField(source="record.pk")
    url = serializers.SerializerMethodField()
    source_record = SourceRecordSerializer()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, hit) -> str:
        return self.context["url_for"](hit)


class ChangeEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeEvent
        fields = (
            "position", "entity_type", "record_id", "golden_id", "version", "operation", "changed_fields", "data",
            "reason", "correlation_id", "occurred_at",
        )


class ChangeFeedSerializer(serializers.Serializer):
    results = ChangeEventSerializer(many=True)
    next_cursor = serializers.CharField(help_text="Pass as ?after= to get the changes after these.")
    has_more = serializers.BooleanField()


class GlossaryTermSerializer(serializers.ModelSerializer):
    related = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = GlossaryTerm
        fields = (
            "id", "slug", "name", "definition", "domain", "owner", "status", "synonyms", "related",
            "canonical_attribute", "platform_names", "created_at", "updated_at",
        )
