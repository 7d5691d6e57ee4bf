"""Steward commands through the API: merge, undo a merge, unmerge, not a match, potential matches,
and match-rule changes (dry run first, then apply). Each view validates input and calls one service."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from canonical.choices import PotentialMatchStatus
from canonical.matching.spec import ConfigError
from canonical.models import MatchConfiguration, MatchDecision, PotentialMatch, SourceRecord
from canonical.registry import model_for
from canonical.selectors.golden import golden_record_key
from canonical.services.golden import golden_record_override_clear, golden_record_override_set
from canonical.services.matching import hub_spec
from canonical.services.merge import (
    golden_record_merge,
    golden_record_resolve,
    golden_record_unmerge_record,
    not_a_match_record,
    potential_match_defer,
    source_record_unmerge,
)
from canonical.services.rematch import entity_rematch, rematch_fingerprint
from hub.api import scopes
from hub.api.permissions import actor_name


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="Why: kept in history and on the decision.")


class MergeInput(ReasonSerializer):
    merge = serializers.CharField(help_text="Golden id or UUID of the record to fold into this one.")


class UnmergeInput(ReasonSerializer):
    source_record = serializers.UUIDField(help_text="The source record to take out.")
    into = serializers.CharField(required=False, help_text="Golden id of another record; absent: a new record.")


class OverrideInput(ReasonSerializer):
    attribute = serializers.CharField(help_text="The attribute to pin, e.g. legal_name.")
    value = serializers.JSONField(help_text="The value that wins over every source until cleared.")


class ClearOverrideInput(ReasonSerializer):
    attribute = serializers.CharField()


class NotAMatchInput(ReasonSerializer):
    other = serializers.CharField(help_text="Golden id or UUID of the record this one is not.")


class MatchDecisionSerializer(serializers.ModelSerializer):
    system = serializers.CharField(source="source_record.system.key")
    external_id = serializers.CharField(source="source_record.external_id")

    class Meta:
        model = MatchDecision
        fields = ("id", "source_record", "system", "external_id", "outcome", "golden_record_id",
                  "candidate_golden_id", "score", "contributions", "config_version", "actor", "reason",
                  "correlation_id", "created_at")


def _golden(model, value: str, name: str):
    record = model.objects.filter(**golden_record_key(value)).first()
    if record is None:
        raise ApiValidationError({name: [f"No {model.__name__} {value!r}."]})
    return golden_record_resolve(record)


def _run(fn, **kwargs):
    try:
        return fn(**kwargs)
    except DjangoValidationError as exc:
        raise ApiValidationError({"non_field_errors": exc.messages}) from exc


class StewardActionsMixin:
    """Detail actions added to every golden-record viewset."""

    def _input(self, serializer_class):
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _render(self, record, code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=record.pk)).data, status=code)

    @extend_schema(request=MergeInput, summary="Merge another record into this one")
    @action(detail=True, methods=["post"], required_scope=scopes.STEWARD_WRITE)
    def merge(self, request: Request, id: str) -> Response:
        """Fold another golden record into this one; the other's id keeps resolving here. Undo with undo-merge."""
        data = self._input(MergeInput)
        survivor = self.get_object()
        merged = _golden(type(survivor), data["merge"], "merge")
        return self._render(_run(golden_record_merge, survivor=survivor, merged=merged, actor=actor_name(request),
                                 reason=data["reason"]))

    @extend_schema(request=ReasonSerializer, summary="Undo the merge of this (merged-away) record")
    @action(detail=True, methods=["post"], url_path="undo-merge", required_scope=scopes.STEWARD_WRITE)
    def undo_merge(self, request: Request, id: str) -> Response:
        """Bring a merged-away record back with its own id and the sources it brought."""
        data = self._input(ReasonSerializer)
        record = self.get_object()
        restored = _run(golden_record_unmerge_record, merged=record, actor=actor_name(request),
                        reason=data["reason"])
        return self._render(restored)

    @extend_schema(request=UnmergeInput, summary="Take one source record out of this record")
    @action(detail=True, methods=["post"], required_scope=scopes.STEWARD_WRITE)
    def unmerge(self, request: Request, id: str) -> Response:
        """Move a source record into another golden record, or into a new one; the two are then not a match."""
        data = self._input(UnmergeInput)
        record = self.get_object()
        source = SourceRecord.objects.filter(pk=data["source_record"], golden_record_id=record.pk).first()
        if source is None:
            raise ApiValidationError({"source_record": [f"Not a source of {record.golden_id}."]})
        into = _golden(type(record), data["into"], "into") if data.get("into") else None
        target = _run(source_record_unmerge, source_record=source, actor=actor_name(request), reason=data["reason"],
                      into=into)
        return self._render(target, status.HTTP_201_CREATED if into is None else status.HTTP_200_OK)

    @extend_schema(request=NotAMatchInput, responses={201: None}, summary="Record that another record is different")
    @action(detail=True, methods=["post"], url_path="not-a-match", required_scope=scopes.STEWARD_WRITE)
    def not_a_match(self, request: Request, id: str) -> Response:
        """Remember that two golden records are different; they are never suggested or merged again."""
        data = self._input(NotAMatchInput)
        record = self.get_object()
        other = _golden(type(record), data["other"], "other")
        _run(not_a_match_record, entity_type=record.ENTITY_TYPE, a=record.pk, b=other.pk, actor=actor_name(request),
             reason=data["reason"])
        return Response(status=status.HTTP_201_CREATED)

    @extend_schema(request=OverrideInput, summary="Pin a steward's value for one attribute")
    @action(detail=True, methods=["post"], required_scope=scopes.STEWARD_WRITE)
    def override(self, request: Request, id: str) -> Response:
        """Pin a value: it wins over every platform's value (lineage says "steward_override") until cleared."""
        data = self._input(OverrideInput)
        record = self.get_object()
        _run(golden_record_override_set, record=record, attribute=data["attribute"], value=data["value"],
             actor=actor_name(request), reason=data["reason"])
        return self._render(record)

    @extend_schema(request=ClearOverrideInput, summary="Clear a pinned value")
    @action(detail=True, methods=["post"], url_path="clear-override", required_scope=scopes.STEWARD_WRITE)
    def clear_override(self, request: Request, id: str) -> Response:
        """Unpin an attribute: survivorship over the platforms' values decides it again."""
        data = self._input(ClearOverrideInput)
        record = self.get_object()
        _run(golden_record_override_clear, record=record, attribute=data["attribute"], actor=actor_name(request),
             reason=data["reason"])
        return self._render(record)

    @extend_schema(responses=MatchDecisionSerializer(many=True), summary="Why each source is in this record")
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[],
            required_scope=scopes.STEWARD_READ)
    def decisions(self, request: Request, id: str) -> Response:
        """Every match decision about this record's sources: score, per-comparison weights, who and why."""
        record = self.get_object()
        rows = MatchDecision.objects.filter(
            Q(golden_record_id=record.pk) | Q(source_record__golden_record_id=record.pk),
            entity_type=record.ENTITY_TYPE,
        ).select_related("source_record__system")[:500]
        return Response(MatchDecisionSerializer(rows, many=True).data)


class PotentialMatchSerializer(serializers.ModelSerializer):
    record_a_golden_id = serializers.SerializerMethodField()
    record_b_golden_id = serializers.SerializerMethodField()

    class Meta:
        model = PotentialMatch
        fields = ("id", "entity_type", "record_a", "record_a_golden_id", "record_b", "record_b_golden_id", "score",
                  "contributions", "status", "decided_by", "decision_reason", "created_at", "decided_at")

    def _golden_id(self, pm, pk) -> str | None:
        return model_for(pm.entity_type).objects.filter(pk=pk).values_list("golden_id", flat=True).first()

    def get_record_a_golden_id(self, pm) -> str | None:
        return self._golden_id(pm, pm.record_a)

    def get_record_b_golden_id(self, pm) -> str | None:
        return self._golden_id(pm, pm.record_b)


class PotentialMatchMergeInput(ReasonSerializer):
    survivor = serializers.CharField(help_text="Golden id of the record that survives (one of the pair).")


class PotentialMatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Grey-zone pairs of golden records waiting for a steward: merge, not a match, or defer."""

    queryset = PotentialMatch.objects.all()
    serializer_class = PotentialMatchSerializer
    required_scope = scopes.STEWARD_READ
    filterset_fields = ["entity_type", "status"]
    ordering = ["-score", "id"]
    ordering_fields = ["score", "created_at"]
    search_fields = []

    def _decide(self, serializer_class):
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        match = self.get_object()
        if match.status not in (PotentialMatchStatus.OPEN, PotentialMatchStatus.DEFERRED):
            raise ApiValidationError({"status": [f"This potential match is already {match.status}."]})
        return match, data.validated_data

    @extend_schema(request=PotentialMatchMergeInput, responses=PotentialMatchSerializer)
    @action(detail=True, methods=["post"], required_scope=scopes.STEWARD_WRITE)
    def merge(self, request: Request, pk: str) -> Response:
        match, data = self._decide(PotentialMatchMergeInput)
        model = model_for(match.entity_type)
        pair = {match.record_a, match.record_b}
        survivor = _golden(model, data["survivor"], "survivor")
        if survivor.pk not in pair:
            raise ApiValidationError({"survivor": ["Must be one of the two records of this potential match."]})
        merged = model.objects.get(pk=(pair - {survivor.pk}).pop())
        _run(golden_record_merge, survivor=survivor, merged=merged, actor=actor_name(request), reason=data["reason"])
        match.refresh_from_db()
        return Response(PotentialMatchSerializer(match).data)

    @extend_schema(request=ReasonSerializer, responses=PotentialMatchSerializer)
    @action(detail=True, methods=["post"], url_path="not-a-match", required_scope=scopes.STEWARD_WRITE)
    def not_a_match(self, request: Request, pk: str) -> Response:
        match, data = self._decide(ReasonSerializer)
        _run(not_a_match_record, entity_type=match.entity_type, a=match.record_a, b=match.record_b,
             actor=actor_name(request), reason=data["reason"])
        match.refresh_from_db()
        return Response(PotentialMatchSerializer(match).data)

    @extend_schema(request=ReasonSerializer, responses=PotentialMatchSerializer)
    @action(detail=True, methods=["post"], required_scope=scopes.STEWARD_WRITE)
    def defer(self, request: Request, pk: str) -> Response:
        match, data = self._decide(ReasonSerializer)
        _run(potential_match_defer, match=match, actor=actor_name(request), reason=data["reason"])
        return Response(PotentialMatchSerializer(match).data)


class MatchConfigurationSerializer(serializers.ModelSerializer):
    class Meta:
        model = MatchConfiguration
        fields = ("entity_type", "spec", "parameters", "version", "updated_at")


class RulesInput(serializers.Serializer):
    spec = serializers.JSONField(help_text="The proposed rules (same shape as the current ones).")


class ApplyInput(RulesInput):
    dry_run_id = serializers.CharField(help_text="The dry_run_id of the dry run whose impact you accept.")


REPORT_SCHEMA = inline_serializer("RematchReport", {
    "entity_type": serializers.CharField(), "records": serializers.IntegerField(),
    "clusters": serializers.IntegerField(), "goldens_before": serializers.IntegerField(),
    "merges": serializers.IntegerField(), "splits": serializers.IntegerField(), "moves": serializers.IntegerField(),
    "new_records": serializers.IntegerField(), "thresholds": serializers.DictField(),
    "applied": serializers.BooleanField(), "config_version": serializers.IntegerField(),
    "examples": serializers.DictField(), "dry_run_id": serializers.CharField(),
})


class MatchRulesViewSet(viewsets.ReadOnlyModelViewSet):
    """Match rules per entity type. A change is applied only with the id of a dry run of that very change,
    so a steward always sees how many golden records would merge, split or move first."""

    queryset = MatchConfiguration.objects.all()
    serializer_class = MatchConfigurationSerializer
    required_scope = scopes.STEWARD_READ
    lookup_field = "entity_type"
    ordering = ["entity_type"]
    ordering_fields = ["entity_type"]
    pagination_class = None
    filter_backends = []

    def _proposal(self, serializer_class) -> tuple[MatchConfiguration, dict, dict]:
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        config = self.get_object()
        try:
            hub_spec(data.validated_data["spec"])
        except (ConfigError, KeyError, TypeError) as exc:
            raise ApiValidationError({"spec": [str(exc)]}) from exc
        return config, data.validated_data["spec"], data.validated_data

    @extend_schema(request=RulesInput, responses=REPORT_SCHEMA)
    @action(detail=True, methods=["post"], url_path="dry-run", required_scope=scopes.MATCH_RULES_WRITE)
    def dry_run(self, request: Request, entity_type: str) -> Response:
        """What the proposed rules would do to today's golden records: merges, splits and moves, with examples."""
        config, spec, _ = self._proposal(RulesInput)
        report = entity_rematch(entity_type=config.entity_type, spec=spec)
        return Response({**report.to_dict(), "dry_run_id": rematch_fingerprint(report, spec)})

    @extend_schema(request=ApplyInput, responses=REPORT_SCHEMA)
    @action(detail=True, methods=["post"], required_scope=scopes.MATCH_RULES_WRITE)
    def apply(self, request: Request, entity_type: str) -> Response:
        """Apply rules whose dry run you have seen; refused (409) if the data or rules changed since."""
        config, spec, data = self._proposal(ApplyInput)
        preview = entity_rematch(entity_type=config.entity_type, spec=spec)
        if rematch_fingerprint(preview, spec) != data["dry_run_id"]:
            return Response(
                {"type": "about:blank", "title": "Conflict", "status": 409,
                 "detail": "The impact differs from the dry run you saw (or there was none): dry-run again."},
                status=status.HTTP_409_CONFLICT, content_type="application/problem+json",
            )
        report = entity_rematch(entity_type=config.entity_type, spec=spec, apply=True,
                                actor=actor_name(request), reason="match rules changed").to_dict()
        report["dry_run_id"] = data["dry_run_id"]
        return Response(report)

    def get_object(self):
        config = self.get_queryset().filter(entity_type=self.kwargs["entity_type"]).first()
        if config is None:
            raise NotFound(f"No match rules for {self.kwargs['entity_type']!r}.")
        return config


__all__ = ["MatchRulesViewSet", "PotentialMatchViewSet", "StewardActionsMixin"]
