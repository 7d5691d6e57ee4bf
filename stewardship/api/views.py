"""Steward tasks over REST: list and read (steward:read); claim, release, decide and comment (steward:write).
Each view validates its input and calls one service."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from hub.api import scopes
from hub.api.errors import Conflict
from hub.api.pagination import CursorPagination
from hub.api.permissions import actor_name
from hub.models import ApiClient
from stewardship.api.filtersets import StewardTaskFilterSet
from stewardship.api.serializers import (
    ClaimInput,
    CommentInput,
    DecisionInput,
    StewardTaskDetailSerializer,
    StewardTaskSerializer,
    TaskCommentSerializer,
)
from stewardship.models import StewardTask
from stewardship.services.decisions import steward_task_decide
from stewardship.services.tasks import (
    TaskStateError,
    steward_task_assign,
    steward_task_claim,
    steward_task_comment,
)


class TaskPagination(CursorPagination):
    ordering = ("priority", "due_at", "id")


class StewardTaskViewSet(viewsets.ReadOnlyModelViewSet):
    """The steward queues: duplicates, data-quality and business exceptions, and sync failures."""

    queryset = StewardTask.objects.select_related("assignee").order_by("priority", "due_at", "id")
    serializer_class = StewardTaskSerializer
    filterset_class = StewardTaskFilterSet
    pagination_class = TaskPagination
    required_scope = scopes.STEWARD_READ
    search_fields = ["title"]

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.prefetch_related("comments") if self.action == "retrieve" else queryset

    def get_serializer_class(self):
        return StewardTaskDetailSerializer if self.action == "retrieve" else StewardTaskSerializer

    def _person(self, request: Request):
        """The signed-in steward, or None for an API client (whose name goes on the record instead)."""
        return None if isinstance(request.auth, ApiClient) else request.user

    def _done(self, task: StewardTask) -> Response:
        task.refresh_from_db()
        return Response(StewardTaskDetailSerializer(task).data)

    @extend_schema(request=ClaimInput, responses=StewardTaskDetailSerializer)
    @action(detail=True, methods=["post"], required_scope=scopes.STEWARD_WRITE)
    def claim(self, request: Request, pk: str) -> Response:
        data = ClaimInput(data=request.data)
        data.is_valid(raise_exception=True)
        task, person = self.get_object(), self._person(request)
        name = data.validated_data.get("assignee")
        if name and (person is None or name != person.get_username()):
            if person is not None:
                raise ValidationError({"assignee": ["A steward claims a task for themselves."]})
            person = get_user_model().objects.filter(username=name, is_active=True, is_staff=True).first()
            if person is None:
                raise ValidationError({"assignee": [f"No active steward {name!r}."]})
        if person is None:
            raise ValidationError({"assignee": ["Name the steward the task is claimed for."]})
        _run(steward_task_claim, task=task, user=person)
        return self._done(task)

    @extend_schema(request=None, responses=StewardTaskDetailSerializer)
    @action(detail=True, methods=["post"], required_scope=scopes.STEWARD_WRITE)
    def release(self, request: Request, pk: str) -> Response:
        task = self.get_object()
        _run(steward_task_assign, task=task, assignee=None, by=self._person(request))
        return self._done(task)

    @extend_schema(request=DecisionInput, responses=StewardTaskDetailSerializer)
    @action(detail=True, methods=["post"], required_scope=scopes.STEWARD_WRITE)
    def resolve(self, request: Request, pk: str) -> Response:
        """Decide: merge (with survivor and kept values), not_a_match, dismiss (with a reason), defer, replay
        (a failed delivery) or resolve (fixed)."""
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        task = self.get_object()
        _run(steward_task_decide, task=task, user=self._person(request), actor=_api_actor(request),
             **data.validated_data)
        return self._done(task)

    @extend_schema(request=CommentInput, responses={201: TaskCommentSerializer})
    @action(detail=True, methods=["post"], required_scope=scopes.STEWARD_WRITE)
    def comments(self, request: Request, pk: str) -> Response:
        data = CommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        comment = _run(steward_task_comment, task=self.get_object(), body=data.validated_data["body"],
                       user=self._person(request), actor=_api_actor(request))
        return Response(TaskCommentSerializer(comment).data, status=status.HTTP_201_CREATED)


def _api_actor(request: Request) -> str:
    return actor_name(request) if isinstance(request.auth, ApiClient) else ""


def _run(fn, **kwargs):
    try:
        return fn(**kwargs)
    except TaskStateError as exc:
        raise Conflict(str(exc)) from exc
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        raise ValidationError(detail) from exc
