"""Outbound deliveries through the API, for operators and integration engineers: find them, see what the
platform answered, replay dead letters (one, or many by ids or by filter); and each system's circuit."""

import uuid

import django_filters as filters
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response

from canonical.choices import EntityType
from canonical.models import ConnectedSystem
from canonical.selectors.golden import golden_record_key
from connectors.models import CircuitBreaker, Delivery, DeliveryStatus
from connectors.services.outbound import MAX_ATTEMPTS, deliveries_replay
from hub.api import scopes
from hub.api.permissions import actor_name

MAX_REPLAY_IDS = 1000


class NotADeadLetter(APIException):
    status_code = 409
    default_detail = "Only a dead letter can be replayed."
    default_code = "conflict"


def _record_filter(queryset, name: str, value: str):
    key = golden_record_key(value.strip())
    return queryset.filter(record_id=key["id"]) if "id" in key else queryset.filter(change__golden_id=key["golden_id"])


class DeliveryFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices)
    system = filters.CharFilter(field_name="subscription__system__key", help_text="Connected system key.")
    entity_type = filters.ChoiceFilter(field_name="subscription__entity_type", choices=EntityType.choices)
    record = filters.CharFilter(method=_record_filter, help_text="The golden record: its UUID or golden id.")
    correlation_id = filters.CharFilter()

    class Meta:
        model = Delivery
        fields = ["status", "system", "entity_type", "record", "correlation_id"]


class DeliverySerializer(serializers.ModelSerializer):
    system = serializers.CharField(source="subscription.system.key", read_only=True)
    entity_type = serializers.CharField(source="subscription.entity_type", read_only=True)
    object_type = serializers.CharField(source="subscription.object_type", read_only=True,
                                        help_text="The platform's object the record is written to.")
    golden_id = serializers.CharField(source="change.golden_id", read_only=True)
    operation = serializers.CharField(source="change.operation", read_only=True)
    max_attempts = serializers.SerializerMethodField()
    last_error = serializers.CharField(read_only=True, help_text="The platform's error on the last attempt.")
    response = serializers.JSONField(read_only=True, help_text="What the platform answered on the last attempt.")

    class Meta:
        model = Delivery
        fields = ("id", "status", "system", "entity_type", "object_type", "record_id", "golden_id", "version",
                  "operation", "attempts", "max_attempts", "next_attempt_at", "last_error", "response",
                  "external_id", "correlation_id", "replays", "replayed_at", "created_at", "delivered_at")
        read_only_fields = fields

    def get_max_attempts(self, delivery: Delivery) -> int:
        return MAX_ATTEMPTS


class ReplayManyInput(serializers.Serializer):
    ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=MAX_REPLAY_IDS,
                                help_text=f"Deliveries to replay (at most {MAX_REPLAY_IDS}).")
    system = serializers.CharField(required=False, help_text="Every dead letter of this connected system.")
    entity_type = serializers.ChoiceField(choices=EntityType.choices, required=False)
    record = serializers.CharField(required=False, help_text="Dead letters of this golden record (UUID or id).")
    correlation_id = serializers.CharField(required=False, max_length=64)
    all = serializers.BooleanField(required=False, default=False, help_text="Every dead letter.")

    def validate_system(self, value: str) -> str:
        if not ConnectedSystem.objects.filter(key=value).exists():
            raise serializers.ValidationError(f"Unknown system {value!r}; see /api/v1/systems/.")
        return value

    def validate(self, attrs: dict) -> dict:
        selectors = {k for k, v in attrs.items() if v not in (None, "", []) and k != "all"}
        if not selectors and not attrs.get("all"):
            raise serializers.ValidationError(
                "Say which dead letters: ids, a filter (system, entity_type, record, correlation_id), or all.")
        if selectors and attrs.get("all"):
            raise serializers.ValidationError("'all' replays every dead letter: give it alone.")
        return attrs


REPLAYED = inline_serializer("ReplayResult", {"requeued": serializers.IntegerField(
    help_text="How many dead letters are pending again (delivered by the relay that follows).")})


class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """Golden changes on their way to subscribing platforms: attempts, the platform's answer, their fate.

    A dead letter (out of attempts, or refused by the platform) can be replayed: it gets a new run of
    attempts, now, and keeps the correlation id of the change that caused it."""

    queryset = Delivery.objects.select_related("subscription__system", "change")
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet
    required_scope = scopes.SYNC_READ
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering = ["-created_at"]
    ordering_fields = ["created_at", "next_attempt_at", "attempts"]

    def get_object(self) -> Delivery:
        try:
            pk = uuid.UUID(self.kwargs["pk"])
        except ValueError:
            raise Http404("No such delivery") from None
        delivery = self.get_queryset().filter(pk=pk).first()
        if delivery is None:
            raise Http404("No such delivery")
        self.check_object_permissions(self.request, delivery)
        return delivery

    @extend_schema(request=None, responses={200: DeliverySerializer}, summary="Replay one dead letter",
                   operation_id="deliveries_replay")
    @action(detail=True, methods=["post"], required_scope=scopes.SYNC_REPLAY, filter_backends=[])
    def replay(self, request: Request, pk: str) -> Response:
        """Give a dead letter a new run of attempts, now. Anything else is a 409: it is on its way already."""
        delivery = self.get_object()
        if delivery.status != DeliveryStatus.DEAD:
            raise NotADeadLetter(f"This delivery is {delivery.status}; only a dead letter can be replayed.")
        deliveries_replay(deliveries=[delivery], actor=actor_name(request))
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=ReplayManyInput, responses={200: REPLAYED}, summary="Replay many dead letters",
                   operation_id="deliveries_replay_many")
    @action(detail=False, methods=["post"], url_path="replay", url_name="replay-many",
            required_scope=scopes.SYNC_REPLAY, filter_backends=[], pagination_class=None)
    def replay_many(self, request: Request) -> Response:
        """Replay dead letters by ids, by filter (e.g. every dead letter of a system), or all of them.
        Deliveries that are not dead letters are left alone and not counted."""
        data = ReplayManyInput(data=request.data)
        data.is_valid(raise_exception=True)
        selection = dict(data.validated_data)
        ids, everything = selection.pop("ids", None), selection.pop("all", False)
        dead = Delivery.objects.filter(status=DeliveryStatus.DEAD)
        if ids:
            dead = dead.filter(pk__in=ids)
        if not everything:
            dead = DeliveryFilterSet(data=selection, queryset=dead).qs
        count = deliveries_replay(deliveries=dead, actor=actor_name(request))
        return Response({"requeued": count})


class CircuitBreakerSerializer(serializers.ModelSerializer):
    system = serializers.CharField(source="system.key", read_only=True)
    enabled = serializers.BooleanField(source="system.enabled", read_only=True)

    class Meta:
        model = CircuitBreaker
        fields = ("system", "enabled", "state", "consecutive_failures", "trips", "opened_at", "next_probe_at",
                  "throttled_until", "last_error", "last_failure_at")
        read_only_fields = fields


class CircuitBreakerListView(generics.ListAPIView):
    """Each connected system's circuit: ``closed`` (delivering), ``open`` (the platform is failing: its
    deliveries and pulls wait until ``next_probe_at``) or ``half_open`` (one probe in flight)."""

    queryset = ConnectedSystem.objects.select_related("circuit_breaker").order_by("key")
    serializer_class = CircuitBreakerSerializer
    required_scope = scopes.SYNC_READ
    pagination_class = None
    filter_backends: list = []

    def list(self, request: Request, *args, **kwargs) -> Response:
        # A system that never failed has no row: its circuit is closed.
        breakers = [getattr(system, "circuit_breaker", None) or CircuitBreaker(system=system)
                    for system in self.get_queryset()]
        return Response(self.get_serializer(breakers, many=True).data)
