"""The queues: steward tasks, one tab per kind, filtered to what is active and ready, worked by actions
and by the buttons on each task's page. Nothing here writes a task: every change goes through a service."""

from functools import update_wrapper

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.html import format_html

from canonical.admin import ReadOnlyHistoryAdmin
from stewardship.admin import display
from stewardship.admin.access import ASSIGN, WORK, can
from stewardship.admin.actions import ACTIONS, ONLY_IN_QUEUE
from stewardship.admin.compare import task_compare
from stewardship.admin.filters import (
    AgeFilter,
    AssigneeFilter,
    DomainFilter,
    KindFilter,
    OverdueFilter,
    StatusFilter,
    ready_q,
)
from stewardship.admin.home import home, sweep
from stewardship.admin.links import golden_links
from stewardship.admin.task_views import task_comment, task_decide, task_detail, task_url
from stewardship.models import StewardTask, TaskKind


@admin.register(StewardTask)
class StewardTaskAdmin(ReadOnlyHistoryAdmin):
    list_display = ["title", "priority_badge", "due", "age", "assignee_name", "money_at_stake", "records", "open_link"]
    list_display_links = ["title"]
    list_filter = [KindFilter, StatusFilter, AssigneeFilter, OverdueFilter, AgeFilter, "priority", DomainFilter]
    list_select_related = ["assignee"]
    list_per_page = 50
    search_fields = ["title", "cause_key"]
    search_help_text = "Title, or a golden id such as CL-000123."
    actions = ACTIONS
    show_full_result_count = False
    history_list_display = ["status", "assignee"]

    # -- permissions: reading is the view permission; working and assigning are the roles' own permissions

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_work_permission(self, request: HttpRequest) -> bool:
        return can(request, WORK)

    def has_assign_permission(self, request: HttpRequest) -> bool:
        return can(request, ASSIGN)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        kind = request.GET.get("kind")
        for name, only_in in ONLY_IN_QUEUE.items():
            if kind and kind != only_in:
                actions.pop(name, None)
        return actions

    # -- the list

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        found, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().upper()
        if term:
            found |= queryset.filter(golden_ids__contains=[term])
        return found, duplicates

    @admin.display(description="priority", ordering="priority")
    def priority_badge(self, task: StewardTask) -> str:
        return display.priority_badge(task)

    @admin.display(description="due", ordering="due_at")
    def due(self, task: StewardTask) -> str:
        return display.due(task)

    @admin.display(description="age", ordering="-created_at")
    def age(self, task: StewardTask) -> str:
        return display.age(task)

    @admin.display(description="assignee", ordering="assignee__username")
    def assignee_name(self, task: StewardTask) -> str:
        return task.assignee.get_username() if task.assignee else "-"

    @admin.display(description="money at stake", ordering="amount")
    def money_at_stake(self, task: StewardTask) -> str:
        return display.money(task.amount, task.currency)

    @admin.display(description="records")
    def records(self, task: StewardTask) -> str:
        return golden_links(task.golden_ids, task.record_ids)

    @admin.display(description="")
    def open_link(self, task: StewardTask) -> str:
        if task.kind == TaskKind.POTENTIAL_MATCH and task.potential_match_id:
            return format_html('<a class="sc-button sc-small" href="{}">Compare</a>', task_url(task, "compare"))
        return format_html('<a class="sc-button sc-small sc-secondary" href="{}">Open</a>', task_url(task))

    def changelist_view(self, request: HttpRequest, extra_context=None):
        kind = request.GET.get("kind", "")
        ready = dict(StewardTask.objects.filter(ready_q()).values_list("kind").annotate(n=Count("pk")))
        tabs = [{"kind": "", "label": "All queues", "count": sum(ready.values())}]
        tabs += [{"kind": k, "label": label, "count": ready.get(k, 0)} for k, label in TaskKind.choices]
        context = {
            "tabs": tabs, "current_kind": kind, "queue_label": dict(TaskKind.choices).get(kind, "All queues"),
            "may_work": can(request, WORK), "title": dict(TaskKind.choices).get(kind, "Steward queues"),
            "is_nav_sidebar_enabled": False,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    # -- a task's own pages

    def get_urls(self):
        def wrap(view, with_task=True):
            def wrapper(request, *args, **kwargs):
                if with_task:
                    task = get_object_or_404(StewardTask, pk=kwargs.pop("object_id"))
                    if not self.has_view_or_change_permission(request, task):
                        raise PermissionDenied
                    return view(request, self, task)
                if not self.has_view_or_change_permission(request):
                    raise PermissionDenied
                return view(request, self)

            return self.admin_site.admin_view(update_wrapper(wrapper, view))

        return [
            path("home/", wrap(home, with_task=False), name="stewardship_stewardtask_home"),
            path("sweep/", wrap(sweep, with_task=False), name="stewardship_stewardtask_sweep"),
            path("<uuid:object_id>/compare/", wrap(task_compare), name="stewardship_stewardtask_compare"),
            path("<uuid:object_id>/decide/", wrap(task_decide), name="stewardship_stewardtask_decide"),
            path("<uuid:object_id>/comment/", wrap(task_comment), name="stewardship_stewardtask_comment"),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        """The task's page is the console's own (a task is worked by decisions, never edited as a form)."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        task = self.get_object(request, object_id)
        if task is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, task):
            raise PermissionDenied
        return task_detail(request, self, task)

