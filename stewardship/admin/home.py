"""Steward home: each queue's open, overdue and own tasks at a glance, and the sweeps run on demand."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from stewardship.admin.access import WORK, can, require
from stewardship.admin.display import console_context
from stewardship.admin.filters import overdue_q, ready_q
from stewardship.admin.links import next_url
from stewardship.models import BulkAction, EditProposal, ProposalStatus, StewardTask, TaskKind
from stewardship.models.tasks import ACTIVE_STATUSES
from stewardship.services.queues import steward_queues_sweep


def queue_url(kind: str = "", **params: str) -> str:
    query = {"kind": kind, **params} if kind else params
    url = reverse("admin:stewardship_stewardtask_changelist")
    return f"{url}?{urlencode(query)}" if query else url


def queue_counts(user) -> list[dict]:
    """Per queue: active, ready now, overdue, the user's own and unassigned tasks, with links to each."""
    rows = StewardTask.objects.filter(status__in=ACTIVE_STATUSES).values("kind").annotate(
        active=Count("pk"), ready=Count("pk", filter=ready_q()), overdue=Count("pk", filter=overdue_q()),
        mine=Count("pk", filter=Q(assignee=user)), unassigned=Count("pk", filter=Q(assignee__isnull=True)),
    )
    counts = {row["kind"]: row for row in rows}
    queues = []
    for kind, label in TaskKind.choices:
        row = counts.get(kind, {})
        queues.append({
            "kind": kind, "label": label,
            **{key: row.get(key, 0) for key in ("active", "ready", "overdue", "mine", "unassigned")},
            "url": queue_url(kind), "overdue_url": queue_url(kind, overdue="yes", status="active"),
            "mine_url": queue_url(kind, assignee="me", status="active"),
            "unassigned_url": queue_url(kind, assignee="unassigned"),
        })
    return queues


def home(request: HttpRequest, model_admin) -> TemplateResponse:
    queues = queue_counts(request.user)
    context = {
        **console_context(model_admin.admin_site, request), "opts": StewardTask._meta, "title": "Steward home",
        "queues": queues, "totals": {key: sum(q[key] for q in queues) for key in ("active", "overdue", "mine")},
        "pending_proposals": EditProposal.objects.filter(status=ProposalStatus.PENDING).count(),
        "proposals_url": reverse("admin:stewardship_editproposal_changelist"),
        "recent_bulk": BulkAction.objects.filter(undone_at__isnull=True)[:5],
        "may_work": can(request, WORK), "sweep_url": reverse("admin:stewardship_stewardtask_sweep"),
        "all_url": queue_url(), "mine_url": queue_url(assignee="me", status="active"),
    }
    return TemplateResponse(request, "admin/stewardship/stewardtask/home.html", context)


@require_POST
def sweep(request: HttpRequest, model_admin) -> HttpResponse:
    """Run the queue sweeps now (beat runs them every minute), so the queues show every cause there is."""
    require(request, WORK)
    results = {TaskKind(kind).label.lower(): counts
               for kind, counts in steward_queues_sweep(exceptions=True).items()}
    opened = sum(r["opened"] for r in results.values())
    resolved = sum(r["resolved"] for r in results.values())
    detail = "; ".join(f"{name}: {r['opened']} opened, {r['resolved']} resolved" for name, r in results.items())
    messages.success(request, f"Queues refreshed: {opened} task(s) opened, {resolved} resolved ({detail}).")
    return HttpResponseRedirect(next_url(request, queue_url()))
