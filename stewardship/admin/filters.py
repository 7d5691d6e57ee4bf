"""Queue filters: which tasks a steward sees (active and ready by default), whose, how old, overdue or not."""

from datetime import timedelta

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.utils import timezone

from stewardship.models import TaskKind, TaskStatus
from stewardship.models.tasks import ACTIVE_STATUSES


def ready_q() -> Q:
    """Active, and not put aside until later."""
    now = timezone.now()
    return Q(status__in=ACTIVE_STATUSES) & (Q(deferred_until__isnull=True) | Q(deferred_until__lte=now))


def overdue_q() -> Q:
    return Q(status__in=ACTIVE_STATUSES, due_at__lt=timezone.now())


class DefaultChoiceFilter(admin.SimpleListFilter):
    """A filter whose unset state means ``default`` (not "all"); "all" is an explicit choice."""

    default: str = ""
    all_label = "All"

    def effective(self) -> str:
        return self.value() or self.default

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.effective() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class KindFilter(admin.SimpleListFilter):
    """The queue: shown as the tab bar above the list, so its sidebar block stays empty."""

    title = "queue"
    parameter_name = "kind"
    template = "admin/stewardship/filter_hidden.html"

    def lookups(self, request, model_admin):
        return TaskKind.choices

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        return queryset.filter(kind=self.value()) if self.value() in TaskKind.values else queryset


class StatusFilter(DefaultChoiceFilter):
    title = "status"
    parameter_name = "status"
    default = "ready"

    def lookups(self, request, model_admin):
        return [("ready", "Active, ready now"), ("active", "Active (incl. deferred)"), ("deferred", "Deferred"),
                *TaskStatus.choices, ("all", "All")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.effective()
        if value == "ready":
            return queryset.filter(ready_q())
        if value == "active":
            return queryset.filter(status__in=ACTIVE_STATUSES)
        if value == "deferred":
            return queryset.filter(status__in=ACTIVE_STATUSES, deferred_until__gt=timezone.now())
        if value in TaskStatus.values:
            return queryset.filter(status=value)
        return queryset


class AssigneeFilter(DefaultChoiceFilter):
    title = "assignee"
    parameter_name = "assignee"
    default = "anyone"

    def lookups(self, request, model_admin):
        return [("me", "Me"), ("unassigned", "Unassigned"), ("anyone", "Anyone")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.effective()
        if value == "me":
            return queryset.filter(assignee=request.user)
        if value == "unassigned":
            return queryset.filter(assignee__isnull=True)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(overdue_q())
        if self.value() == "no":
            return queryset.exclude(overdue_q())
        return queryset


AGE_BUCKETS = {  # value -> (label, at least, less than)
    "day": ("Under a day", None, timedelta(days=1)),
    "week": ("1 to 7 days", timedelta(days=1), timedelta(days=7)),
    "month": ("1 to 4 weeks", timedelta(days=7), timedelta(days=28)),
    "older": ("Over 4 weeks", timedelta(days=28), None),
}


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _, _) in AGE_BUCKETS.items()]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() not in AGE_BUCKETS:
            return queryset
        _, at_least, less_than = AGE_BUCKETS[self.value()]
        now = timezone.now()
        if at_least is not None:
            queryset = queryset.filter(created_at__lte=now - at_least)
        if less_than is not None:
            queryset = queryset.filter(created_at__gt=now - less_than)
        return queryset


class DomainFilter(admin.SimpleListFilter):
    title = "domain"
    parameter_name = "domain"

    def lookups(self, request, model_admin):
        domains = (model_admin.model.objects.exclude(domain="").order_by("domain")
                   .values_list("domain", flat=True).distinct())
        return [(d, d.replace("_", " ").capitalize()) for d in domains]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        return queryset.filter(domain=self.value()) if self.value() else queryset
