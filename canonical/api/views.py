"""Read API of golden records, crosswalk lookups, the change feed, glossary and connected systems."""

from datetime import datetime

from django.db.models import F, Func, TextField, Value
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from canonical.api import filtersets, serializers
from canonical.api.matching import StewardActionsMixin
from canonical.choices import EntityType
from canonical.models import (
    ChangeEvent,
    Client,
    ConnectedSystem,
    Contract,
    Engagement,
    GlossaryTerm,
    Milestone,
    RevenueEvent,
)
from canonical.selectors.golden import (
    UnknownSystem,
    golden_record_get_by_crosswalk,
    golden_record_key,
    golden_record_sources,
    golden_records_as_of,
    history_with_changes,
)
from canonical.services.changes import change_events_sequence
from canonical.services.merge import golden_record_resolve
from hub.api import scopes
from hub.api.pagination import HistoryPagination
from hub.api.params import parse_instant, parse_int
from hub.api.permissions import IsAuthenticatedCaller, caller_has_scope, caller_scopes_filter

AS_OF = OpenApiParameter(
    "as_of", OpenApiTypes.DATETIME,
    description="Answer from history: the record(s) as the hub knew them at this instant (ISO 8601).",
)


@extend_schema_view(list=extend_schema(parameters=[AS_OF]), retrieve=extend_schema(parameters=[AS_OF]))
class GoldenRecordViewSet(StewardActionsMixin, viewsets.ReadOnlyModelViewSet):
    """Golden records of one entity type. ``{id}`` is the UUID or the golden id (e.g. CL-000123)."""

    lookup_value_regex = "[^/]+"
    lookup_url_kwarg = "id"
    ordering = ["golden_id"]
    related: tuple[str, ...] = ()

    def get_as_of(self) -> datetime | None:
        if not hasattr(self, "_as_of"):
            self._as_of = parse_instant("as_of", self.request.query_params.get("as_of"))
        return self._as_of

    def get_queryset(self):
        model = self.queryset.model
        as_of = self.get_as_of() if self.action in {"list", "retrieve"} else None
        queryset = golden_records_as_of(model=model, as_of=as_of)
        if self.action == "list":
            # Records merged into another live on as aliases: they resolve on retrieve, never list twice.
            queryset = queryset.filter(merged_into__isnull=True)
        return queryset.select_related(*self.related) if self.related else queryset

    def get_object(self):
        record = self.get_queryset().filter(**golden_record_key(self.kwargs[self.lookup_url_kwarg])).first()
        if record is None:
            as_of = self.get_as_of()
            raise Http404("No such record" + (f" as of {as_of.isoformat()}" if as_of else ""))
        if record.merged_into_id is not None and self.get_as_of() is None and self.action != "undo_merge":
            # A retired id resolves to the record it was merged into.
            self.merged_from = record.golden_id
            record = self.get_queryset().get(pk=golden_record_resolve(record).pk)
        self.check_object_permissions(self.request, record)
        return record

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "merged_from", None):
            response["X-Concord-Merged-From"] = self.merged_from
        return response

    @extend_schema(responses=serializers.HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=HistoryPagination, filter_backends=[])
    def history(self, request: Request, id: str) -> Response:
        """Every version of the record, newest first: who or what changed it, why, and what changed."""
        record = self.get_object()
        model = type(record)
        page = self.paginate_queryset(model.history.filter(id=record.pk).select_related("history_user"))
        entries = history_with_changes(entries=page, model=model)
        return self.get_paginated_response(serializers.HistoryEntrySerializer(entries, many=True).data)

    @extend_schema(responses=serializers.SourceRecordSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def sources(self, request: Request, id: str) -> Response:
        """The platforms' copies of this record (the crosswalk), and which attributes each one supplies."""
        record = self.get_object()
        sources = golden_record_sources(record=record)[:1000]
        data = serializers.SourceRecordSerializer(sources, many=True, context={"lineage": record.lineage}).data
        return Response(data)


class ClientViewSet(GoldenRecordViewSet):
    queryset = Client.objects.all()
    serializer_class = serializers.ClientSerializer
    filterset_class = filtersets.ClientFilterSet
    required_scope = scopes.READ_CLIENTS
    related = ("parent",)
    search_fields = ["legal_name", "display_name", "golden_id", "website_domain", "tax_id"]
    ordering_fields = ["golden_id", "legal_name", "display_name", "country", "updated_at", "created_at"]


class EngagementViewSet(GoldenRecordViewSet):
    queryset = Engagement.objects.all()
    serializer_class = serializers.EngagementSerializer
    filterset_class = filtersets.EngagementFilterSet
    required_scope = scopes.READ_ENGAGEMENTS
    related = ("client",)
    search_fields = ["name", "code", "golden_id", "client__legal_name", "client__display_name", "practice"]
    ordering_fields = ["golden_id", "name", "code", "start_date", "end_date", "budget_amount", "updated_at"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.get_as_of() is None or self.action not in {"list", "retrieve"}:
            queryset = queryset.prefetch_related("milestones")
        return queryset

    def get_serializer(self, *args, **kwargs):
        as_of = self.get_as_of()
        if as_of is not None and args:
            records = args[0] if kwargs.get("many") else [args[0]]
            milestones = Milestone.history.as_of(as_of).filter(engagement_id__in=[r.id for r in records])
            by_engagement: dict = {}
            for milestone in milestones.order_by("sequence"):
                by_engagement.setdefault(milestone.engagement_id, []).append(milestone)
            kwargs.setdefault("context", self.get_serializer_context())["milestones_by_engagement"] = by_engagement
        return super().get_serializer(*args, **kwargs)


class MilestoneViewSet(GoldenRecordViewSet):
    queryset = Milestone.objects.all()
    serializer_class = serializers.MilestoneSerializer
    filterset_class = filtersets.MilestoneFilterSet
    required_scope = scopes.READ_ENGAGEMENTS
    related = ("engagement",)
    search_fields = ["name", "golden_id", "engagement__name", "engagement__code"]
    ordering_fields = ["golden_id", "due_date", "completed_date", "amount", "updated_at"]


class ContractViewSet(GoldenRecordViewSet):
    queryset = Contract.objects.all()
    serializer_class = serializers.ContractSerializer
    filterset_class = filtersets.ContractFilterSet
    required_scope = scopes.READ_CONTRACTS
    related = ("client", "engagement", "parent")
    search_fields = ["number", "title", "golden_id", "client__legal_name", "client__display_name"]
    ordering_fields = ["golden_id", "number", "value_amount", "start_date", "signed_date", "updated_at"]


class RevenueEventViewSet(GoldenRecordViewSet):
    queryset = RevenueEvent.objects.all()
    serializer_class = serializers.RevenueEventSerializer
    filterset_class = filtersets.RevenueEventFilterSet
    required_scope = scopes.READ_REVENUE_EVENTS
    related = ("client", "engagement", "contract", "milestone", "source_system")
    search_fields = ["golden_id", "idempotency_key", "source_reference", "description"]
    ordering_fields = ["golden_id", "occurred_on", "amount", "period", "created_at"]


class ConnectedSystemViewSet(viewsets.ReadOnlyModelViewSet):
    """The platforms connected to the hub; their keys are what lookups take as ``system``."""

    queryset = ConnectedSystem.objects.all()
    serializer_class = serializers.ConnectedSystemSerializer
    required_scope = scopes.READ_SYSTEMS
    lookup_field = "key"
    ordering = ["key"]
    ordering_fields = ["key", "name", "kind"]
    search_fields = ["key", "name"]
    filterset_fields = ["kind", "enabled"]


class GlossaryTermViewSet(viewsets.ReadOnlyModelViewSet):
    """The shared glossary: what a term means, who owns it, what each platform calls it."""

    serializer_class = serializers.GlossaryTermSerializer
    filterset_class = filtersets.GlossaryTermFilterSet
    required_scope = scopes.READ_GLOSSARY
    lookup_field = "slug"
    ordering = ["name"]
    ordering_fields = ["name", "domain", "status", "updated_at"]
    search_fields = ["name", "definition", "canonical_attribute", "synonyms_text"]

    def get_queryset(self):
        return GlossaryTerm.objects.annotate(
            synonyms_text=Func(F("synonyms"), Value(" "), function="array_to_string", output_field=TextField())
        ).prefetch_related("related")


_ROUTE_OF = {
    EntityType.CLIENT: "client-detail",
    EntityType.ENGAGEMENT: "engagement-detail",
    EntityType.MILESTONE: "milestone-detail",
    EntityType.CONTRACT: "contract-detail",
    EntityType.REVENUE_EVENT: "revenueevent-detail",
}


class CrosswalkLookupView(APIView):
    """Find the golden record a platform's record belongs to: ``?system=salesforce&external_id=001...``."""

    permission_classes = [IsAuthenticatedCaller]

    @extend_schema(
        parameters=[
            OpenApiParameter("system", str, required=True, description="Connected system key, e.g. salesforce."),
            OpenApiParameter("external_id", str, required=True, description="The record's id in that system."),
            OpenApiParameter("object_type", str, description="The platform's object, e.g. Account (optional)."),
        ],
        responses=serializers.CrosswalkHitSerializer,
    )
    def get(self, request: Request) -> Response:
        system = request.query_params.get("system", "").strip()
        external_id = request.query_params.get("external_id", "").strip()
        missing = {name: ["This parameter is required."] for name, v in
                   (("system", system), ("external_id", external_id)) if not v}
        if missing:
            raise ValidationError(missing)
        try:
            hit = golden_record_get_by_crosswalk(
                system_key=system, external_id=external_id, object_type=request.query_params.get("object_type")
            )
        except UnknownSystem:
            raise ValidationError({"system": [f"Unknown system {system!r}; see /api/v1/systems/."]}) from None
        if hit is None:
            raise Http404(f"No golden record for {system} id {external_id!r}")
        if not caller_has_scope(request, scopes.BY_ENTITY_TYPE[hit.entity_type]):
            raise PermissionDenied(f"This record is a {hit.entity_type}; your client lacks its read scope.")

        def url_for(h) -> str:
            return reverse(_ROUTE_OF[h.entity_type], kwargs={"id": h.record.golden_id}, request=request)

        return Response(serializers.CrosswalkHitSerializer(hit, context={"url_for": url_for}).data)


class ChangeFeedView(APIView):
    """Golden-record changes in commit order, for consumers that poll: ``?after=<next_cursor>``.

    Only the entity types the caller may read are included. A change is never skipped: positions are
    assigned after commit, so a poll never sees a later change before an earlier one has a position.
    """

    permission_classes = [IsAuthenticatedCaller]
    max_limit = 1000

    @extend_schema(
        parameters=[
            OpenApiParameter("after", str, description="The next_cursor of the previous poll; absent: from the start."),
            OpenApiParameter("limit", int, description="At most this many changes (1-1000, default 100)."),
            OpenApiParameter("entity_type", str, enum=EntityType.values, description="Only this entity type."),
        ],
        responses=serializers.ChangeFeedSerializer,
    )
    def get(self, request: Request) -> Response:
        after = parse_int("after", request.query_params.get("after"), default=0)
        limit = parse_int("limit", request.query_params.get("limit"), default=100, minimum=1, maximum=self.max_limit)
        allowed = caller_scopes_filter(request, scopes.BY_ENTITY_TYPE)
        if not allowed:
            raise PermissionDenied("Your API client holds no scope that covers any entity type.")
        wanted = request.query_params.get("entity_type")
        if wanted:
            if wanted not in EntityType.values:
                raise ValidationError({"entity_type": [f"Unknown entity type {wanted!r}."]})
            if wanted not in allowed:
                raise PermissionDenied(f"This endpoint requires the '{scopes.BY_ENTITY_TYPE[wanted]}' scope.")
            allowed = [wanted]
        change_events_sequence()
        events = list(
            ChangeEvent.objects.filter(position__gt=after, entity_type__in=allowed).order_by("position")[: limit + 1]
        )
        has_more = len(events) > limit
        events = events[:limit]
        next_cursor = str(events[-1].position if events else after)
        data = {
            "results": serializers.ChangeEventSerializer(events, many=True).data,
            "next_cursor": next_cursor,
            "has_more": has_more,
        }
        return Response(data)
