"""Queue actions: claim, assign, dismiss, merge and replay many tasks at once, each through its service.

Bulk assign, dismiss and merge ask on an intermediate page (who, why) and are recorded as one BulkAction
that can be undone as one; the message after them links to the undo."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from hub import roles
from stewardship.admin.display import console_context
from stewardship.models import BulkAction, TaskKind
from stewardship.models.tasks import ACTIVE_STATUSES
from stewardship.services.bulk import steward_tasks_bulk_assign, steward_tasks_bulk_dismiss, steward_tasks_bulk_merge
from stewardship.services.decisions import potential_match_pair, steward_task_replay
from stewardship.services.tasks import TaskStateError, steward_task_claim


def stewards() -> QuerySet:
    """People who work the queues: active staff in the Steward or Steward lead group."""
    return (get_user_model().objects.filter(is_active=True, is_staff=True,
                                            groups__name__in=[roles.STEWARD, roles.STEWARD_LEAD])
            .distinct().order_by("username"))


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=stewards(), required=False, empty_label="Nobody: back to the queue",
                                      help_text="The tasks move to this steward's queue ('Assignee: me').")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = stewards()


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                             help_text="Kept with every task and in their history.")


def undo_message(request: HttpRequest, bulk: BulkAction, text: str) -> None:
    url = reverse("admin:stewardship_bulkaction_undo", args=[bulk.pk])
    messages.success(request, format_html('{} <a href="{}">Undo</a>', text, url))


def _intermediate(modeladmin, request: HttpRequest, queryset: QuerySet, *, action: str, title: str, form: forms.Form,
                  intro: str, button: str, template: str = "admin/stewardship/stewardtask/action_confirm.html",
                  **context) -> TemplateResponse:
    return TemplateResponse(request, template, {
        **console_context(modeladmin.admin_site, request), "opts": modeladmin.model._meta, "title": title,
        "tasks": queryset, "action": action, "form": form, "intro": intro, "button": button,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME, **context,
    })


@admin.action(description="Assign to me", permissions=["work"])
def assign_to_me(modeladmin, request: HttpRequest, queryset: QuerySet) -> None:
    claimed, refused = 0, []
    for task in queryset.filter(status__in=ACTIVE_STATUSES):
        try:
            steward_task_claim(task=task, user=request.user)
            claimed += 1
        except TaskStateError as exc:
            refused.append(f"{task.title}: {exc}")
    if claimed:
        messages.success(request, f"{claimed} task(s) assigned to you.")
    for text in refused:
        messages.warning(request, text)


@admin.action(description="Assign to a steward…", permissions=["assign"])
def bulk_assign(modeladmin, request: HttpRequest, queryset: QuerySet):
    form = AssignForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        assignee = form.cleaned_data["assignee"]
        bulk = steward_tasks_bulk_assign(tasks=queryset, assignee=assignee, user=request.user)
        undo_message(request, bulk, f"{bulk.item_count} task(s) assigned to "
                                    f"{assignee.get_username() if assignee else 'the queue'}.")
        return None
    return _intermediate(modeladmin, request, queryset, action="bulk_assign", title="Assign tasks", form=form,
                         intro="Give these tasks to one steward.", button="Assign")


@admin.action(description="Dismiss with a reason…", permissions=["work"])
def bulk_dismiss(modeladmin, request: HttpRequest, queryset: QuerySet):
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        try:
            bulk = steward_tasks_bulk_dismiss(tasks=queryset, reason=form.cleaned_data["reason"],
                                              user=request.user)
        except (ValidationError, TaskStateError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
            return None
        undo_message(request, bulk, f"{bulk.item_count} task(s) dismissed.")
        return None
    return _intermediate(modeladmin, request, queryset, action="bulk_dismiss", title="Dismiss tasks", form=form,
                         intro="Dismissed tasks leave the queues and are not raised again for the same cause.",
                         button="Dismiss")


class MergeForm(ReasonForm):
    reason = forms.CharField(max_length=300, initial="duplicates confirmed in review",
                             widget=forms.TextInput(attrs={"size": 60}))


@admin.action(description="Merge the pairs (older record survives)…", permissions=["work"])
def bulk_merge(modeladmin, request: HttpRequest, queryset: QuerySet):
    pairs = queryset.filter(kind=TaskKind.POTENTIAL_MATCH, status__in=ACTIVE_STATUSES)
    skipped = queryset.count() - pairs.count()
    form = MergeForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        try:
            bulk = steward_tasks_bulk_merge(tasks=pairs, reason=form.cleaned_data["reason"], user=request.user)
        except (ValidationError, TaskStateError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
            return None
        undo_message(request, bulk, f"{bulk.item_count} pair(s) merged.")
        return None
    rows = []
    for task in pairs:
        a, b = potential_match_pair(task)
        survivor, merged = sorted((a, b), key=lambda r: (len(r.golden_id), r.golden_id))
        rows.append((task, survivor, merged))
    return _intermediate(modeladmin, request, pairs, action="bulk_merge", title="Merge potential matches", form=form,
                         intro="Each pair merges into its older record, which keeps its golden id; the other id "
                               "lives on as an alias. Survivorship decides every attribute; the whole batch can "
                               "be undone as one.", button="Merge", pairs=rows, skipped=skipped)


@admin.action(description="Replay the failed deliveries", permissions=["work"])
def replay(modeladmin, request: HttpRequest, queryset: QuerySet) -> None:
    replayed, skipped = 0, 0
    for task in queryset.filter(kind=TaskKind.SYNC_FAILURE, status__in=ACTIVE_STATUSES, delivery__isnull=False):
        replayed += steward_task_replay(task=task, user=request.user)
    skipped = queryset.count() - replayed
    if replayed:
        messages.success(request, f"{replayed} delivery(ies) queued again; each task resolves itself once delivered.")
    if skipped:
        messages.warning(request, f"{skipped} task(s) had no dead letter to replay.")


ACTIONS = [assign_to_me, bulk_assign, bulk_dismiss, bulk_merge, replay]
ONLY_IN_QUEUE = {"bulk_merge": TaskKind.POTENTIAL_MATCH, "replay": TaskKind.SYNC_FAILURE}
