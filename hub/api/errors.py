"""Errors as RFC 9457 problem details: ``{"type", "title", "status", "detail", "instance"[, "errors"]}``.

DRF's own ``detail`` key is kept, so clients written for DRF keep working.
"""

from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(status: int, detail: str, *, instance: str = "", errors: dict | list | None = None) -> dict:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return body


def _summary(errors: dict | list | str) -> str:
    if isinstance(errors, dict):
        parts = []
        for field, messages in errors.items():
            text = " ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
            parts.append(text if field in {"non_field_errors", "detail"} else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(errors, list):
        return " ".join(str(e) for e in errors)
    return str(errors)


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    instance = request.get_full_path() if request is not None else ""
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        body = problem(response.status_code, _summary(data), instance=instance, errors=data)
    else:
        detail = data.get("detail", "") if isinstance(data, dict) else _summary(data)
        body = problem(response.status_code, str(detail), instance=instance)
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _json_problem(request: HttpRequest, status: int, detail: str) -> JsonResponse:
    return JsonResponse(
        problem(status, detail, instance=request.get_full_path()), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_problem(request, 404, "No such resource.")


def server_error(request: HttpRequest) -> JsonResponse:
    return _json_problem(request, 500, "The hub failed to handle this request; it has been logged.")


class Conflict(exceptions.APIException):
    """The resource is not in a state that allows this (e.g. deciding a task already resolved): 409."""

    status_code = 409
    default_detail = "The resource is not in a state that allows this."
    default_code = "conflict"
