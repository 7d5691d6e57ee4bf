"""A task's page (details, decisions, comments, history) and the POSTs behind its buttons."""

import json
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from stewardship.admin import display
from stewardship.admin.access import ASSIGN, WORK, can, require
from stewardship.admin.actions import stewards
from stewardship.admin.display import console_context
from stewardship.admin.links import golden_links, next_url
from stewardship.models import StewardTask, TaskKind
from stewardship.services.decisions import steward_task_decide, steward_task_postpone, steward_task_replay
from stewardship.services.tasks import TaskStateError, steward_task_assign, steward_task_claim, steward_task_comment

DEFER_CHOICES = [(1, "1 day"), (3, "3 days"), (7, "a week"), (14, "two weeks")]
# Decisions a kind offers on its page (merge happens on the side-by-side page of a potential match).
KIND_DECISIONS = {
    TaskKind.POTENTIAL_MATCH: ["not_a_match", "defer", "dismiss"],
    TaskKind.SYNC_FAILURE: ["replay", "resolve", "defer", "dismiss"],
    TaskKind.DATA_QUALITY: ["resolve", "defer", "dismiss"],
    TaskKind.BUSINESS_EXCEPTION: ["resolve", "defer", "dismiss"],
}
NEEDS_REASON = {"not_a_match", "dismiss"}


def task_url(task: StewardTask, view: str = "change") -> str:
    return reverse(f"admin:stewardship_stewardtask_{view}", args=[task.pk])


def _pretty(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def _correlation_id(task: StewardTask) -> str:
    found = (task.details or {}).get("correlation_id") or ""
    if not found and task.delivery_id and task.delivery is not None:
        found = task.delivery.change.correlation_id
    return found


def failure_details(task: StewardTask) -> dict:
    """What went wrong, for a sync failure: the platform's error and answer, the payload, the correlation id."""
    details = dict(task.details or {})
    delivery = task.delivery if task.delivery_id else None
    return {
        "system": details.get("system", ""),
        "object_type": details.get("object_type", ""),
        "external_id": details.get("external_id", ""),
        "error": (delivery.last_error if delivery is not None and delivery.last_error else details.get("error", "")),
        "response": _pretty(details["response"]) if details.get("response") else "",
        "payload": _pretty(details["payload"]) if details.get("payload") else "",
        "correlation_id": _correlation_id(task),
        "attempts": details.get("attempts"),
        "version": details.get("version"),
        "delivery": delivery,
        "delivery_url": reverse("admin:connectors_delivery_change", args=[delivery.pk]) if delivery else "",
    }


def task_detail(request: HttpRequest, model_admin, task: StewardTask) -> TemplateResponse:
    may_work = can(request, WORK) and task.is_active
    history = list(task.history.select_related("history_user").order_by("-history_date")[:25])
    context = {
        **console_context(model_admin.admin_site, request),
        "opts": StewardTask._meta, "title": task.title, "task": task, "original": task,
        "priority": display.priority_badge(task), "due": display.due(task, full=True), "age": display.age(task),
        "money": display.money(task.amount, task.currency), "status": display.status_badge(task),
        "records": golden_links(task.golden_ids, task.record_ids),
        "failure": failure_details(task) if task.kind == TaskKind.SYNC_FAILURE else None,
        "other_details": _pretty(task.details) if task.details and task.kind != TaskKind.SYNC_FAILURE else "",
        "comments": task.comments.select_related("author"),
        "history": history,
        "may_work": may_work, "may_comment": can(request, WORK),
        "may_assign": may_work and can(request, ASSIGN),
        "decisions": KIND_DECISIONS.get(task.kind, []) if may_work else [],
        "can_replay": task.kind == TaskKind.SYNC_FAILURE and task.delivery_id is not None,
        "defer_choices": DEFER_CHOICES, "stewards": stewards() if may_work and can(request, ASSIGN) else [],
        "is_mine": task.assignee_id == request.user.pk,
        "compare_url": task_url(task, "compare") if task.kind == TaskKind.POTENTIAL_MATCH else "",
        "decide_url": task_url(task, "decide"), "comment_url": task_url(task, "comment"),
        "history_url": task_url(task, "history"),
    }
    return TemplateResponse(request, "admin/stewardship/stewardtask/detail.html", context)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[(d, d) for d in (
        "claim", "release", "assign", "not_a_match", "defer", "dismiss", "replay", "resolve")])
    reason = forms.CharField(max_length=2000, required=False)
    days = forms.TypedChoiceField(choices=DEFER_CHOICES, coerce=int, required=False)
    assignee = forms.IntegerField(required=False)


def _decide(request: HttpRequest, task: StewardTask, data: dict) -> str:
    """Carry out one decision; returns what to tell the steward."""
    decision, reason = data["decision"], data["reason"].strip()
    if decision == "claim":
        steward_task_claim(task=task, user=request.user)
        return "The task is yours."
    if decision == "release":
        if task.assignee_id not in (None, request.user.pk):
            require(request, ASSIGN)
        steward_task_assign(task=task, assignee=None, by=request.user)
        return "The task is back in the queue."
    if decision == "assign":
        require(request, ASSIGN)
        assignee = stewards().filter(pk=data["assignee"]).first() if data["assignee"] else None
        if data["assignee"] and assignee is None:
            raise ValidationError("Pick a steward.")
        steward_task_assign(task=task, assignee=assignee, by=request.user)
        return f"Assigned to {assignee.get_username()}." if assignee else "The task is back in the queue."
    if decision in NEEDS_REASON and not reason:
        raise ValidationError("Say why: the reason is kept with the decision.")
    if decision == "defer":
        days = data["days"] or 3
        steward_task_postpone(task=task, reason=reason or f"deferred for {days} d", user=request.user,
                              until=timezone.now() + timedelta(days=days))
        return f"Deferred for {days} day(s): the task leaves the ready queue until then."
    if decision == "replay":
        if not steward_task_replay(task=task, user=request.user):
            raise TaskStateError("Nothing to replay: the delivery is no longer a dead letter.")
        return "Replay queued: the task resolves itself once the platform accepts the delivery."
    steward_task_decide(task=task, decision=decision, reason=reason, user=request.user)
    return {
        "not_a_match": "Marked as not a match: the pair will not be suggested again.",
        "dismiss": "Task dismissed.",
        "resolve": "Task resolved.",
    }[decision]


@require_POST
def task_decide(request: HttpRequest, model_admin, task: StewardTask) -> HttpResponse:
    require(request, WORK)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That decision is not available.")
        return HttpResponseRedirect(task_url(task))
    try:
        messages.success(request, _decide(request, task, form.cleaned_data))
    except (TaskStateError, ValidationError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    return HttpResponseRedirect(next_url(request, task_url(task)))


@require_POST
def task_comment(request: HttpRequest, model_admin, task: StewardTask) -> HttpResponse:
    require(request, WORK)
    try:
        steward_task_comment(task=task, body=request.POST.get("body", ""), user=request.user)
        messages.success(request, "Comment added.")
    except (ValidationError, TaskStateError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    return HttpResponseRedirect(task_url(task) + "#comments")

