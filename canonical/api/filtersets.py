"""Filters for the read API (django-filter)."""

import django_filters as filters

from canonical.models import Client, Contract, Engagement, GlossaryTerm, Milestone, RevenueEvent


class GoldenRecordFilterSet(filters.FilterSet):
    golden_id = filters.CharFilter(lookup_expr="iexact")
    updated_after = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gt")
    updated_before = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="lte")


class ClientFilterSet(GoldenRecordFilterSet):
    parent = filters.UUIDFilter(field_name="parent_id")
    website_domain = filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Client
        fields = ["golden_id", "status", "country", "currency", "industry", "parent", "website_domain", "tax_id"]


class EngagementFilterSet(GoldenRecordFilterSet):
    client = filters.UUIDFilter(field_name="client_id")
    start_after = filters.DateFilter(field_name="start_date", lookup_expr="gte")
    start_before = filters.DateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = Engagement
        fields = ["golden_id", "client", "status", "engagement_type", "practice", "currency", "code"]


class MilestoneFilterSet(GoldenRecordFilterSet):
    engagement = filters.UUIDFilter(field_name="engagement_id")
    due_after = filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = Milestone
        fields = ["golden_id", "engagement", "status"]


class ContractFilterSet(GoldenRecordFilterSet):
    client = filters.UUIDFilter(field_name="client_id")
    engagement = filters.UUIDFilter(field_name="engagement_id")
    parent = filters.UUIDFilter(field_name="parent_id")

    class Meta:
        model = Contract
        fields = ["golden_id", "client", "engagement", "parent", "kind", "status", "currency", "number"]


class RevenueEventFilterSet(GoldenRecordFilterSet):
    client = filters.UUIDFilter(field_name="client_id")
    engagement = filters.UUIDFilter(field_name="engagement_id")
    contract = filters.UUIDFilter(field_name="contract_id")
    period_from = filters.CharFilter(field_name="period", lookup_expr="gte")
    period_to = filters.CharFilter(field_name="period", lookup_expr="lte")
    occurred_after = filters.DateFilter(field_name="occurred_on", lookup_expr="gte")
    occurred_before = filters.DateFilter(field_name="occurred_on", lookup_expr="lte")
    min_amount = filters.NumberFilter(field_name="amount", lookup_expr="gte")
    max_amount = filters.NumberFilter(field_name="amount", lookup_expr="lte")

    class Meta:
        model = RevenueEvent
        fields = ["golden_id", "kind", "period", "currency", "client", "engagement", "contract"]


class GlossaryTermFilterSet(filters.FilterSet):
    class Meta:
        model = GlossaryTerm
        fields = ["domain", "status", "owner"]
