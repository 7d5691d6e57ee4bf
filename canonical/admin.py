"""Admin for golden records, the crosswalk, the change feed, connected systems and the glossary.

Golden records are computed from their sources, so their attributes are read-only here; stewards
find any record by name, golden id or any platform's id, and read its sources, lineage and history.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
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


class GuardedHistoryAdmin(SimpleHistoryAdmin):
    """simple-history's revert form saves a past version on any POST, checking only the view permission:
    reverting needs the change permission here."""

    def may_revert(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    def revert_disabled(self, request: HttpRequest, obj=None) -> bool:
        return not self.may_revert(request) or super().revert_disabled(request, obj)

    def history_form_view(self, request: HttpRequest, object_id: str, version_id: str, extra_context=None):
        if request.method != "GET" and not self.may_revert(request):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyHistoryAdmin(GuardedHistoryAdmin):
    """History to read, never to revert: these rows change only through their services."""

    def may_revert(self, request: HttpRequest) -> bool:
        return False


def golden_sources(record) -> list[SourceRecord]:
    """Every platform's copy of a golden record, active ones first."""
    return list(SourceRecord.objects.filter(entity_type=record.ENTITY_TYPE, golden_record_id=record.pk)
                .select_related("system").order_by("is_deleted", "system__key", "external_id"))


def golden_lineage(record) -> list[dict]:
    """Per attribute: today's value, and the platform copy and rule that gave it (or the steward who pinned it)."""
    external = {str(s.pk): s for s in golden_sources(record)}
    rows = []
    for attribute in record.SURVIVED_ATTRIBUTES:
        entry = (record.lineage or {}).get(attribute) or {}
        source = external.get(entry.get("source_record") or "")
        pinned = (record.overrides or {}).get(attribute) or {}
        value = getattr(record, attribute)
        rows.append({
            "attribute": attribute, "label": record._meta.get_field(attribute).verbose_name,
            "value": "" if value is None else value, "system": entry.get("system") or "",
            "external_id": source.external_id if source else "", "rule": entry.get("rule") or "",
            "at": entry.get("at") or "", "by": pinned.get("by") or entry.get("by") or "",
            "reason": pinned.get("reason") or entry.get("reason") or "", "unresolved": "unresolved" in entry,
        })
    return rows


class GoldenRecordAdmin(ReadOnlyHistoryAdmin):
    """Read-only attributes, search across the crosswalk, and the record's sources with lineage."""

    history_list_display = ["version", "correlation_id"]
    list_per_page = 50
    show_full_result_count = False
    RECORD_FIELDS = ("version", "merged_into", "created_at", "updated_at")
    STORED = ("lineage", "overrides")

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [f.name for f in self.model._meta.concrete_fields] + ["sources_with_lineage", "lineage_table"]

    def get_fieldsets(self, request: HttpRequest, obj=None):
        skip = {"id", *self.RECORD_FIELDS, *self.STORED}
        attributes = [f.name for f in self.model._meta.concrete_fields if f.name not in skip]
        fieldsets = [
            (None, {"fields": attributes}),
            ("Sources", {"fields": ["sources_with_lineage"]}),
            ("Lineage", {"fields": ["lineage_table"]}) if self.model.SURVIVED_ATTRIBUTES else None,
            ("Record", {"fields": list(self.RECORD_FIELDS)}),
            ("Stored lineage and overrides", {"fields": list(self.STORED), "classes": ["collapse"]}),
        ]
        return [f for f in fieldsets if f is not None]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        # Values come from the sources (and steward overrides), never from this form: no save buttons.
        context = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
                   "show_delete": False, "title": capfirst(self.opts.verbose_name), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=context)

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

    @admin.display(description="Sources")
    def sources_with_lineage(self, obj) -> str:
        supplies: dict[str, list[str]] = {}
        for attribute, entry in (obj.lineage or {}).items():
            supplies.setdefault(entry.get("source_record") or "", []).append(f"{attribute} ({entry.get('rule')})")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (s.system.key, s.object_type, s.external_id, "deleted" if s.is_deleted else "active",
                 ", ".join(sorted(supplies.get(str(s.pk), []))) or "-")
                for s in golden_sources(obj)
            ),
        )
        return format_html(
            "<table><thead><tr><th>Platform</th><th>Object</th><th>External id</th><th>State</th>"
            "<th>Supplies</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Where each value comes from")
    def lineage_table(self, obj) -> str:
        rows = [row for row in golden_lineage(obj) if row["value"] != "" or row["rule"]]
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (row["label"], row["value"], row["system"] or "-", row["external_id"] or "-",
                 f"{row['rule']}: {row['by']} ({row['reason']})" if row["by"] else (row["rule"] or "-"))
                for row in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>Attribute</th><th>Value</th><th>Platform</th><th>External id</th>"
            "<th>Rule</th></tr></thead><tbody>{}</tbody></table>",
            body,
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
class SourceRecordAdmin(ReadOnlyHistoryAdmin):
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
class ConnectedSystemAdmin(GuardedHistoryAdmin):
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
class GlossaryTermAdmin(GuardedHistoryAdmin):
    list_display = ["name", "domain", "status", "owner", "canonical_attribute"]
    list_filter = ["domain", "status", "owner"]
    search_fields = ["name", "slug", "definition"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["related"]


@admin.register(MatchConfiguration)
class MatchConfigurationAdmin(ReadOnlyHistoryAdmin):
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
class PotentialMatchAdmin(ReadOnlyHistoryAdmin):
    list_display = ["entity_type", "record_a", "record_b", "score", "status", "decided_by", "created_at"]
    list_filter = ["entity_type", "status"]
    readonly_fields = [f.name for f in PotentialMatch._meta.concrete_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(NotAMatch)
class NotAMatchAdmin(ReadOnlyHistoryAdmin):
    list_display = ["entity_type", "record_a", "record_b", "actor", "reason", "created_at"]
    list_filter = ["entity_type"]
    readonly_fields = [f.name for f in NotAMatch._meta.concrete_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
