from django.contrib import admin

from canonical.admin import ConnectedSystemAdmin
from canonical.models import ConnectedSystem
from connectors.models import BreakerState, CircuitBreaker, Delivery, Stream, Subscription, SyncRun, WebhookEvent
from connectors.services.breaker import breaker_reset
from connectors.services.outbound import deliveries_replay


class SyncRunInline(admin.TabularInline):
    model = SyncRun
    fields = ["started_at", "status", "pages", "received", "created", "updated", "unchanged", "deleted", "errors"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-started_at"]


@admin.register(Stream)
class StreamAdmin(admin.ModelAdmin):
    """Streams are created from each connector's objects; operators enable, disable or rewind them here."""

    list_display = ["system", "object_type", "direction", "enabled", "cursor", "last_success_at", "last_error"]
    list_filter = ["system", "direction", "enabled"]
    search_fields = ["object_type", "system__key"]
    readonly_fields = ["last_run_at", "last_success_at", "last_error", "created_at"]
    inlines = [SyncRunInline]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["stream", "status", "started_at", "finished_at", "pages", "received", "created", "updated",
                    "unchanged", "deleted", "errors"]
    list_filter = ["status", "stream__system"]
    search_fields = ["=correlation_id"]
    readonly_fields = [f.name for f in SyncRun._meta.concrete_fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Routing rules: which system receives which entity's changes, under which conditions."""

    list_display = ["system", "entity_type", "object_type", "conditions", "enabled"]
    list_filter = ["system", "entity_type", "enabled"]


@admin.action(description="Replay the selected dead letters")
def replay_dead_letters(modeladmin, request, queryset) -> None:
    count = deliveries_replay(deliveries=queryset, actor=f"admin:{request.user.get_username()}")
    modeladmin.message_user(request, f"{count} dead letter(s) replayed; the next relay delivers them.")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["subscription", "record_id", "version", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "subscription__system"]
    search_fields = ["=record_id", "external_id", "=correlation_id"]
    readonly_fields = [f.name for f in Delivery._meta.concrete_fields]
    actions = [replay_dead_letters]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["system", "event_id", "object_type", "status", "received_at", "processed_at"]
    list_filter = ["status", "system"]
    search_fields = ["event_id", "=correlation_id"]
    readonly_fields = [f.name for f in WebhookEvent._meta.concrete_fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.action(description="Close the selected circuit breakers (the platform is back)")
def close_breakers(modeladmin, request, queryset) -> None:
    count = sum(breaker_reset(system_id=system_id) for system_id in queryset.values_list("system_id", flat=True))
    modeladmin.message_user(request, f"{count} circuit breaker(s) closed; held deliveries go with the next relay.")


@admin.register(CircuitBreaker)
class CircuitBreakerAdmin(admin.ModelAdmin):
    """One per connected system that has failed: open ones hold the system's deliveries and pulls."""

    list_display = ["system", "state", "consecutive_failures", "trips", "opened_at", "next_probe_at",
                    "throttled_until", "last_error"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in CircuitBreaker._meta.concrete_fields]
    actions = [close_breakers]

    def has_add_permission(self, request) -> bool:
        return False


class CircuitBreakerInline(admin.StackedInline):
    model = CircuitBreaker
    fields = ["state", "consecutive_failures", "trips", "opened_at", "next_probe_at", "throttled_until",
              "last_error", "last_failure_at"]
    readonly_fields = fields
    can_delete = False
    max_num = 0
    extra = 0


admin.site.unregister(ConnectedSystem)


@admin.register(ConnectedSystem)
class ConnectedSystemWithBreakerAdmin(ConnectedSystemAdmin):
    """The canonical admin of connected systems, with each one's circuit breaker."""

    list_display = [*ConnectedSystemAdmin.list_display, "circuit"]
    inlines = [*ConnectedSystemAdmin.inlines, CircuitBreakerInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("circuit_breaker")

    @admin.display(description="circuit")
    def circuit(self, system: ConnectedSystem) -> str:
        breaker = getattr(system, "circuit_breaker", None)
        return breaker.state if breaker is not None else BreakerState.CLOSED
