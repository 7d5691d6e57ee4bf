"""Edit proposals: the pending queue of sensitive edits, each with its diff, approved by a second steward."""

from functools import update_wrapper

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from canonical.admin import ReadOnlyHistoryAdmin
from canonical.registry import model_for
from stewardship.admin.access import APPROVE, WORK, can, require
from stewardship.admin.display import console_context
from stewardship.admin.filters import DefaultChoiceFilter
from stewardship.admin.links import golden_url, record_url
from stewardship.models import EditProposal, ProposalStatus
from stewardship.services.proposals import edit_approve, edit_reject
from stewardship.services.tasks import TaskStateError


class ProposalStatusFilter(DefaultChoiceFilter):
    title = "status"
    parameter_name = "status"
    default = ProposalStatus.PENDING

    def lookups(self, request, model_admin):
        return [*ProposalStatus.choices, ("all", "All")]

    def queryset(self, request, queryset):
        value = self.effective()
        return queryset.filter(status=value) if value in ProposalStatus.values else queryset


def _value(value) -> str:
    return "-" if value in (None, "") else str(value)


@admin.register(EditProposal)
class EditProposalAdmin(ReadOnlyHistoryAdmin):
    list_display = ["summary", "record", "sensitive", "reason", "proposed_by", "created_at", "status", "decided_by"]
    list_display_links = ["summary"]
    list_filter = [ProposalStatusFilter, "entity_type"]
    search_fields = ["golden_id", "reason", "proposed_by_name"]
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="record", ordering="golden_id")
    def record(self, proposal: EditProposal) -> str:
        return format_html('<a href="{}">{}</a>', golden_url(proposal.golden_id, proposal.record_id),
                           proposal.golden_id or proposal.record_id)

    @admin.display(description="changes")
    def summary(self, proposal: EditProposal) -> str:
        return ", ".join(a.replace("_", " ") for a in proposal.changes)

    @admin.display(description="sensitive", boolean=True)
    def sensitive(self, proposal: EditProposal) -> bool:
        return proposal.needs_second_approval

    @admin.display(description="proposed by", ordering="proposed_by_name")
    def proposed_by(self, proposal: EditProposal) -> str:
        return proposal.proposed_by_name

    @admin.display(description="decided by", ordering="decided_by_name")
    def decided_by(self, proposal: EditProposal) -> str:
        return proposal.decided_by_name or "-"

    def changelist_view(self, request: HttpRequest, extra_context=None):
        return super().changelist_view(request, {"title": "Edits of golden records", **(extra_context or {})})

    def get_urls(self):
        def wrap(view):
            def wrapper(request, object_id):
                proposal = get_object_or_404(EditProposal, pk=object_id)
                if not self.has_view_or_change_permission(request, proposal):
                    raise PermissionDenied
                return view(request, proposal)

            return self.admin_site.admin_view(update_wrapper(wrapper, view))

        return [path("<uuid:object_id>/decide/", wrap(self.decide_view), name="stewardship_editproposal_decide"),
                *super().get_urls()]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        """A proposal is decided, never edited: its page shows the diff and the approve / reject buttons."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        proposal = self.get_object(request, object_id)
        if proposal is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, proposal):
            raise PermissionDenied
        record = model_for(proposal.entity_type).objects.filter(pk=proposal.record_id).first()
        pending = proposal.status == ProposalStatus.PENDING
        own = proposal.proposed_by_id == request.user.pk
        rows = [{"attribute": a, "before": _value(proposal.before.get(a)), "after": _value(v),
                 "today": _value(getattr(record, a + "_id", getattr(record, a, None))) if record else "-",
                 "sensitive": a in proposal.sensitive_attributes} for a, v in proposal.changes.items()]
        context = {
            **console_context(self.admin_site, request), "opts": self.opts, "original": proposal,
            "title": f"Edit of {proposal.golden_id}: {', '.join(proposal.changes)}", "proposal": proposal,
            "rows": rows, "record": record, "record_url": record_url(record) if record else "", "own": own,
            "may_approve": pending and can(request, APPROVE) and not own,
            "may_reject": pending and can(request, WORK),
            "decide_url": reverse("admin:stewardship_editproposal_decide", args=[proposal.pk]),
            "history_url": reverse("admin:stewardship_editproposal_history", args=[proposal.pk]),
        }
        return TemplateResponse(request, "admin/stewardship/editproposal/detail.html", context)

    def decide_view(self, request: HttpRequest, proposal: EditProposal) -> HttpResponse:
        return _decide(request, proposal)


@require_POST
def _decide(request: HttpRequest, proposal: EditProposal) -> HttpResponse:
    decision, note = request.POST.get("decision"), request.POST.get("note", "").strip()
    back = reverse("admin:stewardship_editproposal_change", args=[proposal.pk])
    try:
        if decision == "approve":
            require(request, APPROVE)
            edit_approve(proposal=proposal, user=request.user, note=note)
            messages.success(request, f"Approved: the edit of {proposal.golden_id} is applied.")
        elif decision == "reject":
            require(request, WORK)
            if not note:
                messages.error(request, "Say why the edit is rejected: the proposer reads it.")
                return HttpResponseRedirect(back)
            rejected = edit_reject(proposal=proposal, user=request.user, note=note)
            messages.success(request, f"The edit is {rejected.get_status_display().lower()}.")
        else:
            messages.error(request, "Choose approve or reject.")
    except TaskStateError as exc:
        messages.error(request, str(exc))
    return HttpResponseRedirect(back)

