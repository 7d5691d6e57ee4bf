from django.contrib import admin

from hub.models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """API clients are created with ``manage.py api_client create`` (the token is shown once)."""

    list_display = ["name", "token_prefix", "scopes", "is_active", "last_used_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "token_prefix"]
    readonly_fields = ["token_prefix", "last_used_at", "created_at"]
    fields = ["name", "description", "scopes", "is_active", "token_prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        return False
