"""Bulk actions: what was done to many tasks or records at once, by whom and why, and an undo for each."""

from functools import update_wrapper

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from canonical.admin import ReadOnlyHistoryAdmin
from stewardship.admin.access import WORK, can, require
from stewardship.admin.display import console_context
from stewardship.models import BulkAction
from stewardship.services.bulk import bulk_action_undo
from stewardship.services.tasks import TaskStateError


class UndoneFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("done", "Done"), ("undone", "Undone")]

    def queryset(self, request, queryset):
        if self.value() == "done":
            return queryset.filter(undone_at__isnull=True)
        if self.value() == "undone":
            return queryset.filter(undone_at__isnull=False)
        return queryset


@admin.register(BulkAction)
class BulkActionAdmin(ReadOnlyHistoryAdmin):
    list_display = ["created_at", "action", "items_done", "reason", "by", "state", "undo"]
    list_display_links = ["created_at"]
    list_filter = ["action", UndoneFilter]
    search_fields = ["reason", "actor_name"]
    readonly_fields = ["action", "actor_name", "reason", "item_count", "created_at", "undone_at", "undone_by_name",
                       "items"]
    fields = readonly_fields
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="items", ordering="item_count")
    def items_done(self, bulk: BulkAction) -> int:
        return bulk.item_count

    @admin.display(description="by", ordering="actor_name")
    def by(self, bulk: BulkAction) -> str:
        return bulk.actor_name

    def changelist_view(self, request: HttpRequest, extra_context=None):
        return super().changelist_view(request, {"title": "Bulk actions", **(extra_context or {})})

    @admin.display(description="state", ordering="undone_at")
    def state(self, bulk: BulkAction) -> str:
        if bulk.undone_at:
            return format_html('<span class="sc-quiet">undone by {}</span>', bulk.undone_by_name)
        return "done"

    @admin.display(description="")
    def undo(self, bulk: BulkAction) -> str:
        if bulk.undone_at:
            return ""
        return format_html('<a class="sc-button sc-small sc-secondary" href="{}">Undo…</a>',
                           reverse("admin:stewardship_bulkaction_undo", args=[bulk.pk]))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        bulk = self.get_object(request, object_id)
        context = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
                   "show_delete": False, "undo_url": reverse("admin:stewardship_bulkaction_undo", args=[object_id])
                   if bulk is not None and not bulk.undone_at and can(request, WORK) else "", **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def get_urls(self):
        def wrapper(request, object_id):
            bulk = get_object_or_404(BulkAction, pk=object_id)
            if not self.has_view_or_change_permission(request, bulk):
                raise PermissionDenied
            return self.undo_view(request, bulk)

        view = self.admin_site.admin_view(update_wrapper(wrapper, self.undo_view))
        return [path("<uuid:object_id>/undo/", view, name="stewardship_bulkaction_undo"), *super().get_urls()]

    def undo_view(self, request: HttpRequest, bulk: BulkAction) -> HttpResponse:
        """GET: what the undo puts back. POST: undo it, every item, as one."""
        require(request, WORK)
        if request.method == "POST":
            try:
                bulk_action_undo(bulk=bulk, user=request.user)
            except TaskStateError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"Undone: {bulk.get_action_display().lower()} of {bulk.item_count} "
                                          f"item(s) is reversed.")
            return HttpResponseRedirect(reverse("admin:stewardship_bulkaction_changelist"))
        return TemplateResponse(request, "admin/stewardship/bulkaction/undo.html", {
            **console_context(self.admin_site, request), "opts": self.opts, "original": bulk, "bulk": bulk,
            "title": f"Undo {bulk.get_action_display().lower()} of {bulk.item_count} item(s)?",
        })
