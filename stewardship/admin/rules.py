"""Rules and SLAs: steward leads edit them (the Steward group reads them: Django shows its pages read-only)."""

from django.contrib import admin

from canonical.admin import GuardedHistoryAdmin
from stewardship.models import BusinessExceptionRule, DataQualityRule, TaskSLA


@admin.register(DataQualityRule)
class DataQualityRuleAdmin(GuardedHistoryAdmin):
    list_display = ["code", "name", "entity_type", "kind", "attribute", "priority", "enabled", "updated_at"]
    list_filter = ["entity_type", "kind", "enabled", "priority"]
    search_fields = ["code", "name", "attribute"]


@admin.register(BusinessExceptionRule)
class BusinessExceptionRuleAdmin(GuardedHistoryAdmin):
    list_display = ["code", "name", "kind", "grace_days", "priority", "enabled", "last_run_at"]
    list_filter = ["kind", "enabled", "priority"]
    search_fields = ["code", "name"]
    readonly_fields = ["last_run_at", "updated_at"]


@admin.register(TaskSLA)
class TaskSLAAdmin(GuardedHistoryAdmin):
    list_display = ["kind", "hours", "default_priority"]
    readonly_fields = ["kind"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
