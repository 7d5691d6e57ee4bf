from django.contrib import admin

from connectors.models import Stream, SyncRun


class SyncRunInline(admin.TabularInline):
    model = SyncRun
    fields = ["started_at", "status", "pages", "received", "created", "updated", "unchanged", "deleted", "errors"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-started_at"]


@admin.register(Stream)
class StreamAdmin(admin.ModelAdmin):
    """Streams are created from each connector's objects; operators enable, disable or rewind them here."""

    list_display = ["system", "object_type", "direction", "enabled", "cursor", "last_success_at", "last_error"]
    list_filter = ["system", "direction", "enabled"]
    search_fields = ["object_type", "system__key"]
    readonly_fields = ["last_run_at", "last_success_at", "last_error", "created_at"]
    inlines = [SyncRunInline]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["stream", "status", "started_at", "finished_at", "pages", "received", "created", "updated",
                    "unchanged", "deleted", "errors"]
    list_filter = ["status", "stream__system"]
    search_fields = ["=correlation_id"]
    readonly_fields = [f.name for f in SyncRun._meta.concrete_fields]

    def has_add_permission(self, request) -> bool:
        return False
