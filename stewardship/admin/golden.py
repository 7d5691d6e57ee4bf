"""Golden-record pages as stewards use them: sources with an unmerge button each, "Propose an edit" (a diff,
the platforms it reaches, then a proposal) and a bulk override action. Canonical's admin shows the records;
these subclasses, registered in its place, add what stewardship does with them, through its services."""

from functools import update_wrapper
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import capfirst

from canonical.admin import (
    ClientAdmin,
    ContractAdmin,
    EngagementAdmin,
    MilestoneAdmin,
    golden_lineage,
    golden_sources,
)
from canonical.models import Client, Contract, Engagement, Milestone, SourceRecord
from canonical.services.merge import source_record_unmerge
from stewardship.admin.access import WORK, can, require
from stewardship.admin.actions import undo_message
from stewardship.admin.links import record_url
from stewardship.services.bulk import golden_records_bulk_override
from stewardship.services.proposals import SENSITIVE, edit_preview, edit_propose
from stewardship.services.tasks import TaskStateError
from stewardship.services.values import value_plain


def _url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _form_field(field: models.Field) -> forms.Field:
    if field.is_relation:
        form_field = forms.CharField(required=not field.null, max_length=24,
                                     help_text=f"Golden id of the {field.related_model._meta.verbose_name}.")
    else:
        form_field = field.formfield()
    form_field.label = capfirst(field.verbose_name)
    if isinstance(form_field.widget, forms.TextInput):
        form_field.widget.attrs.setdefault("class", "vTextField")
    return form_field


class ProposeForm(forms.Form):
    """The record's editable attributes, today's values filled in, and why they change."""

    def __init__(self, *args, record: models.Model, **kwargs):
        super().__init__(*args, **kwargs)
        self.record = record
        sensitive = SENSITIVE.get(record.ENTITY_TYPE, frozenset())
        for attribute in record.SURVIVED_ATTRIBUTES:
            field = record._meta.get_field(attribute)
            form_field = _form_field(field)
            value = getattr(record, attribute)
            form_field.initial = value.golden_id if isinstance(value, models.Model) else value
            if attribute in sensitive:
                form_field.help_text = f"Sensitive: a second steward approves the change. {form_field.help_text}"
            self.fields[attribute] = form_field
        self.fields["reason"] = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"size": 70}),
                                                help_text="Why the value changes: kept in history and on the override.")

    def changes(self) -> dict[str, Any]:
        """Every attribute as the services hold values: references by id, money and dates as text."""
        changes = {}
        for attribute in self.record.SURVIVED_ATTRIBUTES:
            field, value = self.record._meta.get_field(attribute), self.cleaned_data.get(attribute)
            if field.is_relation:
                related = field.related_model.objects.filter(golden_id=(value or "").upper()).first() if value else None
                if value and related is None:
                    raise ValidationError({attribute: [f"no {field.related_model._meta.verbose_name} {value}"]})
                value = related
            changes[attribute] = value_plain(value)
        return changes


def _shown(record: models.Model, attribute: str, value: Any) -> str:
    field = record._meta.get_field(attribute)
    if field.is_relation and value:
        related = field.related_model.objects.filter(pk=value).first()
        return related.golden_id if related else str(value)
    if field.choices and value:
        return str(dict(field.flatchoices).get(value, value))
    return "" if value is None else str(value)


class OverrideForm(forms.Form):
    attribute = forms.ChoiceField()
    value = forms.CharField(max_length=255, required=False, help_text="Leave empty to pin an empty value.",
                            widget=forms.TextInput(attrs={"class": "vTextField"}))
    reason = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"size": 60}),
                             help_text="Why: kept with every override and in history.")

    def __init__(self, *args, model: type[models.Model], **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        sensitive = SENSITIVE.get(model.ENTITY_TYPE, frozenset())
        plain = [a for a in model.SURVIVED_ATTRIBUTES if not model._meta.get_field(a).is_relation]
        label = lambda a: capfirst(model._meta.get_field(a).verbose_name)  # noqa: E731
        self.fields["attribute"].choices = [
            ("Attributes", [(a, label(a)) for a in plain if a not in sensitive]),
            ("Sensitive: propose the edit instead", [(a, label(a)) for a in plain if a in sensitive]),
        ]

    def clean(self):
        data = super().clean()
        if "attribute" in data:
            field, raw = self.model._meta.get_field(data["attribute"]), data.get("value") or ""
            try:
                data["value"] = value_plain(field.clean(raw, None)) if raw else (None if field.null else "")
            except ValidationError as exc:
                raise ValidationError({"value": exc.messages}) from exc
        return data


@admin.action(description="Override an attribute on the selected records…", permissions=["work"])
def bulk_override(modeladmin, request: HttpRequest, queryset):
    form = OverrideForm(request.POST if "apply" in request.POST else None, model=modeladmin.model)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            bulk = golden_records_bulk_override(records=list(queryset), attribute=data["attribute"],
                                                value=data["value"], reason=data["reason"], user=request.user)
        except ValidationError as exc:
            messages.error(request, f"Not overridden: {'; '.join(exc.messages)}.")
            return None
        undo_message(request, bulk, f"{data['attribute']} pinned on {bulk.item_count} record(s).")
        return None
    return TemplateResponse(request, "admin/stewardship/golden/bulk_override.html", {
        **modeladmin.admin_site.each_context(request), "opts": modeladmin.model._meta,
        "title": f"Override an attribute on {_count(queryset)}",
        "records": queryset, "form": form, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    })


def _count(queryset) -> str:
    count, opts = queryset.count(), queryset.model._meta
    return f"{count} {opts.verbose_name if count == 1 else opts.verbose_name_plural}"


class StewardGoldenRecordMixin:
    """What a steward does on a golden record's pages, added to canonical's read-only admin."""

    change_form_template = "admin/stewardship/golden/change_form.html"
    actions = [bulk_override]

    def has_work_permission(self, request: HttpRequest) -> bool:
        return can(request, WORK)

    def get_fieldsets(self, request: HttpRequest, obj=None):
        # The page lists the sources (each with its unmerge button) and the lineage itself, full width.
        return [f for f in super().get_fieldsets(request, obj) if f[0] not in ("Sources", "Lineage")]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        record = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if record is not None:
            may_work = can(request, WORK) and record.merged_into_id is None
            sources, lineage = golden_sources(record), golden_lineage(record)
            active = sum(1 for s in sources if not s.is_deleted)
            context.update({
                "may_work": may_work,
                "steward_sources": [{"source": s, "unmerge_url": _url(self.model, "unmerge", record.pk, s.pk)
                                     if may_work and not s.is_deleted and active > 1 else ""}
                                    for s in sources],
                "lineage": [{**row, "rule_label": row["rule"].replace("_", " ")} for row in lineage
                            if row["value"] != "" or row["rule"]],
                "unsourced": [row["label"] for row in lineage if row["value"] == "" and not row["rule"]],
                "aliases": [(r.golden_id, record_url(r)) for r in self.model.objects.filter(merged_into=record)],
                "survivor": (record_url(record.merged_into), record.merged_into.golden_id)
                if record.merged_into_id else None,
                "propose_url": _url(self.model, "propose", record.pk) if may_work else "",
            })
        return super().change_view(request, object_id, form_url, extra_context=context)

    object_history_template = "admin/stewardship/golden/object_history.html"

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):
        """The record's own history, and above it the merges into it (recorded on the records merged away)."""
        record = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if record is not None:
            history = self.model.history
            merged = history.filter(merged_into_id=record.pk, history_change_reason__startswith="merged ")
            undone = history.filter(history_change_reason__startswith="undid the merge of ",
                                    history_change_reason__contains=f" into {record.golden_id} ")
            context["merges"] = sorted([*merged, *undone], key=lambda h: h.history_date, reverse=True)
        return super().history_view(request, object_id, extra_context=context)

    def get_urls(self):
        def wrap(view):
            def wrapper(request, object_id, **kwargs):
                record = get_object_or_404(self.model, pk=object_id)
                if not self.has_view_or_change_permission(request, record):
                    raise PermissionDenied
                return view(request, record, **kwargs)

            return self.admin_site.admin_view(update_wrapper(wrapper, view))

        name = f"{self.model._meta.app_label}_{self.model._meta.model_name}"
        return [
            path("<uuid:object_id>/propose/", wrap(self.propose_view), name=f"{name}_propose"),
            path("<uuid:object_id>/unmerge/<uuid:source_id>/", wrap(self.unmerge_view), name=f"{name}_unmerge"),
            *super().get_urls(),
        ]

    def _page(self, request: HttpRequest, record, template: str, **context) -> TemplateResponse:
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": record,
            "record": record, "record_url": record_url(record), **context,
        })

    def propose_view(self, request: HttpRequest, record) -> HttpResponse:
        """GET: the form. POST "preview": the diff and the platforms it reaches. POST "confirm": propose it."""
        require(request, WORK)
        if record.merged_into_id:
            messages.error(request, f"{record.golden_id} was merged away: edit its survivor instead.")
            return HttpResponseRedirect(record_url(record))
        form = ProposeForm(request.POST if request.method == "POST" else None, record=record)
        preview = None
        if form.is_bound and form.is_valid():
            try:
                changes = form.changes()
                if "confirm" in request.POST:
                    proposal = edit_propose(record=record, changes=changes, reason=form.cleaned_data["reason"],
                                            user=request.user)
                    return self._proposed(request, record, proposal)
                preview = edit_preview(record=record, changes=changes)
            except (ValidationError, TaskStateError) as exc:
                _form_errors(form, exc)
        rows = [{"attribute": c.attribute, "label": record._meta.get_field(c.attribute).verbose_name,
                 "before": _shown(record, c.attribute, c.before), "after": _shown(record, c.attribute, c.after),
                 "sensitive": c.sensitive} for c in (preview.changes if preview else [])]
        return self._page(request, record, "admin/stewardship/golden/propose.html", form=form, preview=preview,
                          rows=rows, targets=preview.targets if preview else [],
                          title=f"Propose an edit of {record}")

    def _proposed(self, request: HttpRequest, record, proposal) -> HttpResponse:
        if proposal.status == "applied":
            messages.success(request, f"Applied: {', '.join(proposal.changes)} changed on {record.golden_id}.")
            return HttpResponseRedirect(record_url(record))
        url = reverse("admin:stewardship_editproposal_change", args=[proposal.pk])
        messages.warning(request, f"Proposed: {', '.join(proposal.sensitive_attributes)} "
                                  f"{'is' if len(proposal.sensitive_attributes) == 1 else 'are'} sensitive, so the "
                                  f"edit waits for a second steward's approval.")
        return HttpResponseRedirect(url)

    def unmerge_view(self, request: HttpRequest, record, source_id) -> HttpResponse:
        """GET: what unmerging this source does. POST: take it out into a new golden record."""
        require(request, WORK)
        source = get_object_or_404(SourceRecord.objects.select_related("system"), pk=source_id,
                                   entity_type=record.ENTITY_TYPE, golden_record_id=record.pk)
        error = ""
        if request.method == "POST":
            reason = request.POST.get("reason", "").strip()
            if not reason:
                error = "Say why this copy is not the same record."
            else:
                try:
                    target = source_record_unmerge(source_record=source, actor=request.user.get_username(),
                                                   reason=reason)
                except ValidationError as exc:
                    error = "; ".join(exc.messages)
                else:
                    messages.success(request, f"{source.system.key} {source.external_id} now lives on "
                                              f"{target.golden_id}; the two records are remembered as not a match.")
                    return HttpResponseRedirect(record_url(target))
        return self._page(request, record, "admin/stewardship/golden/unmerge.html", source=source, error=error,
                          title=f"Unmerge {source.system.key} {source.external_id} from {record.golden_id}")
def _form_errors(form: forms.Form, exc: Exception) -> None:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for attribute, errors in exc.message_dict.items():
            form.add_error(attribute if attribute in form.fields else None, errors)
    else:
        form.add_error(None, getattr(exc, "messages", None) or str(exc))


class StewardClientAdmin(StewardGoldenRecordMixin, ClientAdmin):
    pass


class StewardEngagementAdmin(StewardGoldenRecordMixin, EngagementAdmin):
    pass


class StewardMilestoneAdmin(StewardGoldenRecordMixin, MilestoneAdmin):
    pass


class StewardContractAdmin(StewardGoldenRecordMixin, ContractAdmin):
    pass


STEWARD_ADMINS = {Client: StewardClientAdmin, Engagement: StewardEngagementAdmin, Milestone: StewardMilestoneAdmin,
                  Contract: StewardContractAdmin}

for _model, _admin in STEWARD_ADMINS.items():
    admin.site.unregister(_model)
    admin.site.register(_model, _admin)
