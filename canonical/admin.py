"""Admin for golden records, the crosswalk, the change feed, connected systems and the glossary.

Golden records are computed from their sources, so their attributes are read-only here; stewards
find any record by name, golden id or any platform's id, and read its sources, lineage and history.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from canonical.models import (
    ChangeEvent,
    Client,
    ConnectedSystem,
    Contract,
    Engagement,
    GlossaryTerm,
    MatchConfiguration,
    MatchDecision,
    Milestone,
    NotAMatch,
    PotentialMatch,
    RevenueEvent,
    SourceRecord,
)


class GoldenRecordAdmin(SimpleHistoryAdmin):
    """Read-only attributes, search across the crosswalk, and the record's sources with lineage."""

    history_list_display = ["version", "correlation_id"]
    list_per_page = 50
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [f.name for f in self.model._meta.concrete_fields] + ["sources_with_lineage"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            by_source = SourceRecord.objects.filter(
                entity_type=self.model.ENTITY_TYPE, external_id=term, golden_record_id__isnull=False
            ).values("golden_record_id")
            queryset |= self.model.objects.filter(pk__in=by_source)
            queryset |= self.model.objects.filter(golden_id__iexact=term)
        return queryset, may_have_duplicates

    @admin.display(description="Sources and lineage")
    def sources_with_lineage(self, obj) -> str:
        sources = SourceRecord.objects.filter(entity_type=obj.ENTITY_TYPE, golden_record_id=obj.pk).select_related(
            "system"
        )
        supplies: dict[str, list[str]] = {}
        for attribute, entry in (obj.lineage or {}).items():
            supplies.setdefault(entry.get("source_record") or "", []).append(f"{attribute} ({entry.get('rule')})")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (s.system.key, s.object_type, s.external_id, "deleted" if s.is_deleted else "active",
                 ", ".join(sorted(supplies.get(str(s.pk), []))) or "-")
                for s in sources
            ),
        )
        return format_html(
            "<table><thead><tr><th>System</th><th>Object</th><th>External id</th><th>State</th>"
            "<th>Supplies</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )


@admin.register(Client)
class ClientAdmin(GoldenRecordAdmin):
    list_display = ["golden_id", "legal_name", "display_name", "country", "currency", "status", "version", "updated_at"]
    list_filter = ["status", "country", "currency", "industry"]
    search_fields = ["golden_id", "legal_name", "display_name", "website_domain", "tax_id"]
    list_select_related = ["parent"]


class MilestoneInline(admin.TabularInline):
    model = Milestone
    fields = ["golden_id", "sequence", "name", "due_date", "completed_date", "amount", "currency", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Engagement)
class EngagementAdmin(GoldenRecordAdmin):
    list_display = ["golden_id", "name", "client", "engagement_type", "status", "budget_amount", "currency"]
    list_filter = ["status", "engagement_type", "practice", "currency"]
    search_fields = ["golden_id", "name", "code", "client__legal_name", "client__display_name"]
    list_select_related = ["client"]
    inlines = [MilestoneInline]


@admin.register(Milestone)
class MilestoneAdmin(GoldenRecordAdmin):
    list_display = ["golden_id", "name", "engagement", "due_date", "status", "amount", "currency"]
    list_filter = ["status"]
    search_fields = ["golden_id", "name", "engagement__name", "engagement__code"]
    list_select_related = ["engagement"]


@admin.register(Contract)
class ContractAdmin(GoldenRecordAdmin):
    list_display = ["golden_id", "number", "kind", "client", "value_amount", "currency", "status", "signed_date"]
    list_filter = ["kind", "status", "currency"]
    search_fields = ["golden_id", "number", "title", "client__legal_name", "client__display_name"]
    list_select_related = ["client"]


@admin.register(RevenueEvent)
class RevenueEventAdmin(GoldenRecordAdmin):
    list_display = ["golden_id", "kind", "occurred_on", "period", "amount", "currency", "client", "engagement"]
    list_filter = ["kind", "period", "currency"]
    search_fields = ["golden_id", "idempotency_key", "source_reference", "client__legal_name"]
    list_select_related = ["client", "engagement"]
    date_hierarchy = "occurred_on"


@admin.register(SourceRecord)
class SourceRecordAdmin(SimpleHistoryAdmin):
    list_display = ["external_id", "system", "object_type", "entity_type", "golden_record_id", "is_deleted",
                    "source_modified_at"]
    list_filter = ["system", "entity_type", "object_type", "is_deleted"]
    search_fields = ["external_id", "=golden_record_id", "payload_hash"]
    list_select_related = ["system"]
    readonly_fields = [f.name for f in SourceRecord._meta.concrete_fields]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ConnectedSystem)
class ConnectedSystemAdmin(SimpleHistoryAdmin):
    list_display = ["key", "name", "kind", "base_url", "enabled"]
    list_filter = ["kind", "enabled"]
    search_fields = ["key", "name"]


@admin.register(ChangeEvent)
class ChangeEventAdmin(admin.ModelAdmin):
    list_display = ["position", "golden_id", "entity_type", "version", "operation", "occurred_at", "correlation_id"]
    list_filter = ["entity_type", "operation"]
    search_fields = ["golden_id", "=record_id", "=correlation_id"]
    readonly_fields = [f.name for f in ChangeEvent._meta.concrete_fields]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(GlossaryTerm)
class GlossaryTermAdmin(SimpleHistoryAdmin):
    list_display = ["name", "domain", "status", "owner", "canonical_attribute"]
    list_filter = ["domain", "status", "owner"]
    search_fields = ["name", "slug", "definition"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["related"]


@admin.register(MatchConfiguration)
class MatchConfigurationAdmin(SimpleHistoryAdmin):
    """Rules are changed through a dry run (API or ``manage.py rematch --rules``), so they are read-only here."""

    list_display = ["entity_type", "version", "updated_at"]
    readonly_fields = ["entity_type", "spec", "parameters", "version", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(MatchDecision)
class MatchDecisionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "entity_type", "outcome", "score", "source_record", "actor"]
    list_filter = ["entity_type", "outcome"]
    search_fields = ["=source_record__external_id", "=golden_record_id", "=correlation_id"]
    readonly_fields = [f.name for f in MatchDecision._meta.concrete_fields]
    list_select_related = ["source_record__system"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(PotentialMatch)
class PotentialMatchAdmin(SimpleHistoryAdmin):
    list_display = ["entity_type", "record_a", "record_b", "score", "status", "decided_by", "created_at"]
    list_filter = ["entity_type", "status"]
    readonly_fields = [f.name for f in PotentialMatch._meta.concrete_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(NotAMatch)
class NotAMatchAdmin(SimpleHistoryAdmin):
    list_display = ["entity_type", "record_a", "record_b", "actor", "reason", "created_at"]
    list_filter = ["entity_type"]
    readonly_fields = [f.name for f in NotAMatch._meta.concrete_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
