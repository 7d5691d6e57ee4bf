"""Filters of the steward task list."""

import uuid

import django_filters as filters
from django.db.models import Q
from django.utils import timezone

from stewardship.models import StewardTask
from stewardship.models.tasks import ACTIVE_STATUSES


class StewardTaskFilterSet(filters.FilterSet):
    kind = filters.CharFilter()
    status = filters.CharFilter(method="filter_status", help_text="A status, or 'active' (open or in progress).")
    domain = filters.CharFilter()
    priority = filters.NumberFilter()
    assignee = filters.CharFilter(method="filter_assignee",
                                  help_text="A username, 'me' (the signed-in steward) or 'none' (unassigned).")
    overdue = filters.BooleanFilter(method="filter_overdue")
    record = filters.CharFilter(method="filter_record", help_text="A golden id or UUID the task concerns.")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = StewardTask
        fields = ["kind", "status", "domain", "priority"]

    def filter_status(self, queryset, name, value):
        return queryset.filter(status__in=ACTIVE_STATUSES) if value == "active" else queryset.filter(status=value)

    def filter_assignee(self, queryset, name, value):
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value == "me":
            user = getattr(self.request, "user", None)
            return queryset.filter(assignee_id=getattr(user, "pk", None)) if getattr(user, "pk", None) else \
                queryset.none()
        return queryset.filter(assignee__username=value)

    def filter_overdue(self, queryset, name, value):
        late = Q(status__in=ACTIVE_STATUSES, due_at__lt=timezone.now())
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_record(self, queryset, name, value):
        try:
            return queryset.filter(record_ids__contains=[uuid.UUID(value)])
        except ValueError:
            return queryset.filter(golden_ids__contains=[value.upper()])
