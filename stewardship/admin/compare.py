"""The side-by-side page of a potential match: both records, where each value came from, the match score
and its evidence; merge (choosing the survivor and, per conflict, whose value is kept), not a match, defer."""

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone

from stewardship.admin import display
from stewardship.admin.access import WORK, can, require
from stewardship.admin.display import console_context
from stewardship.admin.links import record_url
from stewardship.admin.task_views import task_url
from stewardship.models import StewardTask, TaskKind
from stewardship.services.console import (
    CompareRow,
    PairComparison,
    SideValue,
    potential_match_compare,
)
from stewardship.services.decisions import steward_task_decide, steward_task_merge, steward_task_postpone
from stewardship.services.tasks import TaskStateError
from stewardship.services.values import value_present

RULES = "rules"  # a conflict left to the survivorship rules


def shown(value: Any) -> str:
    if isinstance(value, models.Model):
        return str(value)
    return "" if not value_present(value) else str(value)


def _rule(rule: str) -> str:
    return rule.replace("_", " ")


def _side(side: str, value: SideValue) -> dict:
    """One record's value, the platforms holding it (the one lineage names first), and what other copies say."""
    systems = [value.system] if value.system else []
    systems += [s for s in value.systems if s not in systems]
    return {"side": side, "value": shown(value.value), "systems": systems, "rule": _rule(value.rule),
            "url": record_url(value.value) if isinstance(value.value, models.Model) else "",
            "others": [(system, shown(other)) for system, other in value.others]}


def _row(row: CompareRow) -> dict:
    return {
        "attribute": row.attribute, "label": row.label, "differs": row.differs, "conflict": row.conflict,
        "sides": [_side("a", row.a), _side("b", row.b)], "rules_value": shown(row.rules_value),
        "present": bool(shown(row.a.value) or shown(row.b.value) or shown(row.rules_value)),
        "rules_system": row.rules_system, "rules_rule": _rule(row.rules_rule), "rules_side": row.rules_side,
    }


def _evidence(comparison: PairComparison) -> list[dict]:
    rows = comparison.contributions
    widest = max([abs(w) for _, _, w in rows] + [1.0])
    return [{"field": name.replace("_", " "), "level": level, "weight": weight,
             "width": round(abs(weight) / widest * 100), "against": weight < 0} for name, level, weight in rows]


def _older(comparison: PairComparison) -> str:
    """The record with the older golden id: the default survivor (its id is the one people already use)."""
    key = lambda record: (len(record.golden_id), record.golden_id)  # noqa: E731
    return "a" if key(comparison.a) <= key(comparison.b) else "b"


def _render(request: HttpRequest, model_admin, task: StewardTask, comparison: PairComparison,
            posted: dict | None = None) -> TemplateResponse:
    posted = posted or {}
    rows = [_row(r) for r in comparison.rows]
    context = {
        **console_context(model_admin.admin_site, request),
        "opts": StewardTask._meta, "title": f"Compare {comparison.a.golden_id} and {comparison.b.golden_id}",
        "task": task, "original": task, "comparison": comparison, "a": comparison.a, "b": comparison.b,
        "a_url": record_url(comparison.a), "b_url": record_url(comparison.b),
        "rows": [r for r in rows if r["present"]], "conflicts": [r for r in rows if r["conflict"]],
        "empty_on_both": [r["label"] for r in rows if not r["present"]], "attribute_count": len(rows),
        "differences": sum(1 for r in rows if r["differs"]),
        "score": comparison.match.score, "score_pct": round(comparison.match.score * 100),
        "evidence": _evidence(comparison), "sources": comparison.sources,
        "may_work": can(request, WORK) and task.is_active, "status": display.status_badge(task),
        "priority": display.priority_badge(task), "due": display.due(task),
        "task_url": task_url(task), "posted": posted,
        "survivor": posted.get("survivor") or _older(comparison),
    }
    return TemplateResponse(request, "admin/stewardship/stewardtask/compare.html", context)


def task_compare(request: HttpRequest, model_admin, task: StewardTask) -> HttpResponse:
    if task.kind != TaskKind.POTENTIAL_MATCH or task.potential_match_id is None:
        messages.info(request, "Only a potential match has a side-by-side comparison.")
        return HttpResponseRedirect(task_url(task))
    if request.method == "POST":
        require(request, WORK)
        return _decide(request, model_admin, task)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    return _render(request, model_admin, task, potential_match_compare(task=task))


def _decide(request: HttpRequest, model_admin, task: StewardTask) -> HttpResponse:
    decision, reason = request.POST.get("decision", ""), request.POST.get("reason", "").strip()
    comparison = potential_match_compare(task=task)
    try:
        if decision == "merge":
            keep = {row.attribute: request.POST.get(f"keep_{row.attribute}", RULES) for row in comparison.conflicts}
            keep = {attribute: side for attribute, side in keep.items() if side != RULES}
            survivor = steward_task_merge(task=task, survivor_id=request.POST.get("survivor", ""), keep=keep,
                                          reason=reason or "same organisation, confirmed side by side",
                                          user=request.user)
            kept = f", keeping the chosen value of {', '.join(sorted(keep))}" if keep else ""
            messages.success(request, f"Merged into {survivor.golden_id}{kept}. Its sources and lineage are below.")
            return HttpResponseRedirect(record_url(survivor))
        if decision == "not_a_match":
            if not reason:
                raise ValidationError("Say why they are different: the reason is kept with the decision.")
            steward_task_decide(task=task, decision="not_a_match", reason=reason, user=request.user)
            messages.success(request, "Marked as not a match: this pair will not be suggested again.")
            return HttpResponseRedirect(task_url(task))
        if decision == "defer":
            steward_task_postpone(task=task, reason=reason or "deferred from the comparison", user=request.user,
                                  until=timezone.now() + timedelta(days=3))
            messages.success(request, "Deferred for 3 days: the pair leaves the ready queue until then.")
            return HttpResponseRedirect(task_url(task))
        raise ValidationError("Choose merge, not a match or defer.")
    except (ValidationError, TaskStateError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        task.refresh_from_db()
        return _render(request, model_admin, task, potential_match_compare(task=task), posted=request.POST.dict())
